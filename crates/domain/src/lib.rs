//! The pure core of baiqian: identifiers that parse once, the rules of the organization tree,
//! roles and their reach, the password rule. Nothing here does IO.

pub mod aid;
pub mod cadre;
pub mod capability;
pub mod ledger;
pub mod member;
pub mod money;
pub mod msg;
pub mod org;
pub mod password;
pub mod plan;
pub mod rating;
pub mod role;
pub mod scope;
pub mod second_factor;
pub mod sheet;
pub mod time;
pub mod trust;

pub use msg::Msg;
