//! Integration tests: the real router, a fresh database per test, each story on SQLite and
//! (with `BAIQIAN_TEST_PG`) PostgreSQL.
// A failed expectation in a test is a panic by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod aid;
mod aid_ledgers;
mod aid_sheets;
mod api;
mod audit;
mod auth;
mod boards;
mod browser;
mod browser_aid;
mod browser_station;
mod browser_wish;
mod cadre;
mod charts;
mod checkin;
mod checkin_readers;
mod crawl;
mod excel;
mod exports;
mod figures;
mod files;
mod home;
mod jobs;
mod ledger;
mod ledger_api;
mod ledger_sheets;
mod member;
mod member_record;
mod nodes;
mod pages;
mod phone;
mod plan;
mod plan_items;
mod post;
mod projects;
mod public;
mod rating;
mod rating_scope;
mod roles;
mod roster_files;
mod second_factor;
mod site;
mod standings;
mod station;
mod trust;
mod wish;
