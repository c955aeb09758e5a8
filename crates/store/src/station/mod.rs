//! Red-butler service stations (红管家服务驿站): stations at places in the tree (德清's ten in
//! the 洋家乐 towns), each with its Party volunteer teams; a county's catalogue of services by
//! domain (旅游集散, 公共管理, 行业发展, 社会治理), kind of client and where it is given; which
//! services each station offers. Requests come from the public without signing in
//! (`request`), are assigned to a volunteer, done, and given feedback; each (station,
//! service) keeps its figures in `station_tallies` in the transaction of every change
//! (`board`).

mod board;
mod load;
mod request;
mod tasks;

/// The figures of a station's tally row (`station_tallies`), moved by deltas in each step and
/// summed by the boards. Column names written into SQL: constants, never input.
const TALLY_COLUMNS: [&str; 10] = [
    "received",
    "waiting",
    "in_hand",
    "done",
    "withdrawn",
    "response_ms",
    "responded",
    "completion_ms",
    "score_sum",
    "scored",
];

pub use board::{ServiceFigures, StationFigures, StationTotals};
pub use load::BulkRequest;
pub use request::{
    NewServiceRequest, PublicRequest, RequestFilter, RequestStatus, ServiceRequest, parse_code,
};
pub use tasks::StationTask;

use baiqian_domain::capability::Capability;
use baiqian_domain::org::{Level, path_upper_bound};
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::audit::{self, Change};
use crate::check::{denied, invalid, text};
use crate::kernel::{Node, TreeEvent};
use crate::{Actor, Db, Result, StoreError};

/// What a service is for (the article's four domains).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceDomain {
    /// 旅游集散
    Tourism,
    /// 公共管理
    PublicAffairs,
    /// 行业发展
    Industry,
    /// 社会治理
    Governance,
}

impl ServiceDomain {
    pub const ALL: [ServiceDomain; 4] = [
        ServiceDomain::Tourism,
        ServiceDomain::PublicAffairs,
        ServiceDomain::Industry,
        ServiceDomain::Governance,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ServiceDomain::Tourism => "tourism",
            ServiceDomain::PublicAffairs => "public_affairs",
            ServiceDomain::Industry => "industry",
            ServiceDomain::Governance => "governance",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// Whom a service is for (the article's four kinds of client).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientKind {
    /// 党员
    Member,
    /// 群众
    Villager,
    /// 游客
    Tourist,
    /// 业主 (guesthouse owners)
    Owner,
}

impl ClientKind {
    pub const ALL: [ClientKind; 4] = [
        ClientKind::Member,
        ClientKind::Villager,
        ClientKind::Tourist,
        ClientKind::Owner,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ClientKind::Member => "member",
            ClientKind::Villager => "villager",
            ClientKind::Tourist => "tourist",
            ClientKind::Owner => "owner",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// Where a service is given: 驻点 (at the station), 上门 (at the door) or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceMode {
    Station,
    Door,
    Both,
}

impl ServiceMode {
    pub const ALL: [ServiceMode; 3] = [ServiceMode::Station, ServiceMode::Door, ServiceMode::Both];

    pub fn as_str(self) -> &'static str {
        match self {
            ServiceMode::Station => "station",
            ServiceMode::Door => "door",
            ServiceMode::Both => "both",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// A station as its keepers and readers see it.
#[derive(Debug, Clone, Serialize)]
pub struct Station {
    pub id: i64,
    pub org_code: String,
    pub org_name: String,
    pub org_path: String,
    pub name: String,
    pub address: String,
    /// The volunteer teams, one a line as typed.
    pub teams: Vec<String>,
    /// Taking requests from the public.
    pub open: bool,
    /// How many services it offers.
    pub services: i64,
}

/// A station as typed.
#[derive(Debug, Clone, Default)]
pub struct NewStation {
    pub name: String,
    pub address: String,
    pub teams: String,
}

/// A service of a county's catalogue.
#[derive(Debug, Clone, Serialize)]
pub struct Service {
    pub id: i64,
    pub org_code: String,
    pub name: String,
    pub domain: ServiceDomain,
    pub clients: Vec<ClientKind>,
    pub mode: ServiceMode,
}

/// A service as typed: the domain, clients and mode as their codes.
#[derive(Debug, Clone, Default)]
pub struct NewService {
    pub name: String,
    pub domain: String,
    pub clients: Vec<String>,
    pub mode: String,
}

/// At most this many teams a station, and services a catalogue: bounds for a form and a page.
const MAX_TEAMS: usize = 20;
const MAX_CATALOGUE: i64 = 200;

fn teams_of(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

const STATION_COLUMNS: &str = "s.id, s.org_code, o.name AS org_name, s.org_path, s.name, \
    s.address, s.teams, s.open, \
    (SELECT COUNT(*) FROM station_offers f WHERE f.station_id = s.id) AS services";

fn station_from_row(r: &AnyRow) -> Result<Station> {
    Ok(Station {
        id: r.try_get("id")?,
        org_code: r.try_get("org_code")?,
        org_name: r.try_get("org_name")?,
        org_path: r.try_get("org_path")?,
        name: r.try_get("name")?,
        address: r.try_get("address")?,
        teams: teams_of(&r.try_get::<String, _>("teams")?),
        open: r.try_get::<i64, _>("open")? != 0,
        services: r.try_get("services")?,
    })
}

fn service_from_row(r: &AnyRow) -> Result<Service> {
    let id: i64 = r.try_get("id")?;
    let corrupt = |what: &str| StoreError::Corrupt(format!("station service {id}: {what}"));
    Ok(Service {
        id,
        org_code: r.try_get("org_code")?,
        name: r.try_get("name")?,
        domain: ServiceDomain::parse(&r.try_get::<String, _>("domain")?)
            .ok_or_else(|| corrupt("domain"))?,
        clients: r
            .try_get::<String, _>("clients")?
            .split(',')
            .map(|c| ClientKind::parse(c).ok_or_else(|| corrupt("clients")))
            .collect::<Result<_>>()?,
        mode: ServiceMode::parse(&r.try_get::<String, _>("mode")?)
            .ok_or_else(|| corrupt("mode"))?,
    })
}

/// The station `id` if the actor's scope holds it.
pub(crate) async fn station_in_scope(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i64,
) -> Result<Station> {
    let r = sqlx::query(&format!(
        "SELECT {STATION_COLUMNS} FROM stations s JOIN orgs o ON o.code = s.org_code \
         WHERE s.id = $1 AND s.org_path >= $2 AND s.org_path < $3"
    ))
    .bind(id)
    .bind(actor.scope.lower())
    .bind(actor.scope.upper())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    station_from_row(&r)
}

/// The services of the catalogues at `$1` and above it (a station draws on its county's):
/// those whose node's path begins `$1`.
const CATALOGUE_ABOVE: &str = "substr($1, 1, length(org_path)) = org_path";

impl Db {
    /// Opens a station at a township or village. Returns its id.
    pub async fn create_station(
        &self,
        actor: &Actor,
        node: &Node,
        new: &NewStation,
        now: i64,
    ) -> Result<i64> {
        if !actor.role.may(Capability::KeepStations) || !actor.scope.contains_path(&node.path) {
            return Err(denied());
        }
        if !matches!(node.level, Level::Township | Level::Village) {
            return Err(invalid("station.error.place"));
        }
        let name = text(&new.name, 2, 40, "station.error.name")?;
        let address = text(&new.address, 2, 100, "station.error.address")?;
        let teams = teams_of(&new.teams);
        if teams.len() > MAX_TEAMS
            || teams
                .iter()
                .any(|t| text(t, 2, 20, "station.error.teams").is_err())
        {
            return Err(invalid("station.error.teams"));
        }
        let teams = teams.join("\n");
        let mut tx = self.write().await?;
        let taken = sqlx::query("SELECT id FROM stations WHERE name = $1")
            .bind(&name)
            .fetch_optional(tx.conn())
            .await?
            .is_some();
        if taken {
            return Err(crate::check::conflict("station.error.name_taken"));
        }
        let id: i64 = sqlx::query(
            "INSERT INTO stations (org_code, org_path, name, address, teams, open, created_at) \
             VALUES ($1, $2, $3, $4, $5, 1, $6) RETURNING id",
        )
        .bind(node.code.as_str())
        .bind(&node.path)
        .bind(&name)
        .bind(&address)
        .bind(&teams)
        .bind(now)
        .fetch_one(tx.conn())
        .await?
        .try_get(0)?;
        audit::record(
            tx.conn(),
            actor,
            now,
            Change::create(
                "station",
                &name,
                &node.path,
                json!({ "name": name, "address": address, "teams": teams }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The station `id` as the actor may see it.
    pub async fn station(&self, actor: &Actor, id: i64) -> Result<Station> {
        let mut conn = self.pool().acquire().await?;
        station_in_scope(&mut conn, actor, id).await
    }

    /// The stations at and under a node, by place.
    pub async fn stations_under(&self, node: &Node) -> Result<Vec<Station>> {
        sqlx::query(&format!(
            "SELECT {STATION_COLUMNS} FROM stations s JOIN orgs o ON o.code = s.org_code \
             WHERE s.org_path >= $1 AND s.org_path < $2 ORDER BY s.org_path, s.id LIMIT 5000"
        ))
        .bind(&node.path)
        .bind(path_upper_bound(&node.path))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(station_from_row)
        .collect()
    }

    /// Adds a service to a county's catalogue. Returns its id.
    pub async fn add_station_service(
        &self,
        actor: &Actor,
        node: &Node,
        new: &NewService,
        now: i64,
    ) -> Result<i64> {
        if !actor.role.may(Capability::KeepStations) || !actor.scope.contains_path(&node.path) {
            return Err(denied());
        }
        if node.level != Level::County {
            return Err(invalid("station.error.catalogue_place"));
        }
        let name = text(&new.name, 2, 40, "station.error.service_name")?;
        let domain = ServiceDomain::parse(&new.domain).ok_or(invalid("station.error.domain"))?;
        let mode = ServiceMode::parse(&new.mode).ok_or(invalid("station.error.mode"))?;
        let mut clients: Vec<ClientKind> = Vec::new();
        for c in &new.clients {
            let c = ClientKind::parse(c).ok_or(invalid("station.error.clients"))?;
            if !clients.contains(&c) {
                clients.push(c);
            }
        }
        if clients.is_empty() {
            return Err(invalid("station.error.clients"));
        }
        let clients = clients
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(",");
        let mut tx = self.write().await?;
        let r = sqlx::query(
            "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN name = $2 THEN 1 ELSE 0 END), 0) AS BIGINT) \
             FROM station_services WHERE org_code = $1",
        )
        .bind(node.code.as_str())
        .bind(&name)
        .fetch_one(tx.conn())
        .await?;
        if r.try_get::<i64, _>(1)? > 0 {
            return Err(crate::check::conflict("station.error.service_taken"));
        }
        if r.try_get::<i64, _>(0)? >= MAX_CATALOGUE {
            return Err(invalid("station.error.catalogue_full"));
        }
        let id: i64 = sqlx::query(
            "INSERT INTO station_services (org_code, org_path, name, domain, clients, mode, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(node.code.as_str())
        .bind(&node.path)
        .bind(&name)
        .bind(domain.as_str())
        .bind(&clients)
        .bind(mode.as_str())
        .bind(now)
        .fetch_one(tx.conn())
        .await?
        .try_get(0)?;
        audit::record(
            tx.conn(),
            actor,
            now,
            Change::create(
                "station_service",
                &name,
                &node.path,
                json!({ "name": name, "domain": domain.as_str(), "clients": clients,
                        "mode": mode.as_str() }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The catalogue a node draws on: the services of its county (for a county, its own).
    pub async fn station_catalogue(&self, node: &Node) -> Result<Vec<Service>> {
        sqlx::query(&format!(
            "SELECT id, org_code, name, domain, clients, mode FROM station_services \
             WHERE {CATALOGUE_ABOVE} ORDER BY domain, id LIMIT 200"
        ))
        .bind(&node.path)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(service_from_row)
        .collect()
    }

    /// The services a station offers, by domain.
    pub async fn station_services(&self, station_id: i64) -> Result<Vec<Service>> {
        sqlx::query(
            "SELECT v.id, v.org_code, v.name, v.domain, v.clients, v.mode FROM station_offers f \
             JOIN station_services v ON v.id = f.service_id WHERE f.station_id = $1 \
             ORDER BY v.domain, v.id",
        )
        .bind(station_id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(service_from_row)
        .collect()
    }

    /// Sets which of its county's services a station offers, and whether it takes requests.
    pub async fn set_station_offers(
        &self,
        actor: &Actor,
        station_id: i64,
        service_ids: &[i64],
        open: bool,
        now: i64,
    ) -> Result<()> {
        if !actor.role.may(Capability::KeepStations) {
            return Err(denied());
        }
        let mut tx = self.write().await?;
        let station = station_in_scope(tx.conn(), actor, station_id).await?;
        let catalogue: Vec<(i64, String)> = sqlx::query(&format!(
            "SELECT id, name FROM station_services WHERE {CATALOGUE_ABOVE}"
        ))
        .bind(&station.org_path)
        .fetch_all(tx.conn())
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_>>()?;
        let mut chosen: Vec<&(i64, String)> = Vec::new();
        for id in service_ids {
            let s = catalogue
                .iter()
                .find(|(c, _)| c == id)
                .ok_or(invalid("station.error.service"))?;
            if !chosen.iter().any(|(c, _)| c == id) {
                chosen.push(s);
            }
        }
        let before: Vec<String> = sqlx::query(
            "SELECT v.name FROM station_offers f JOIN station_services v ON v.id = f.service_id \
             WHERE f.station_id = $1 ORDER BY v.id",
        )
        .bind(station_id)
        .fetch_all(tx.conn())
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<std::result::Result<_, _>>()?;
        sqlx::query("DELETE FROM station_offers WHERE station_id = $1")
            .bind(station_id)
            .execute(tx.conn())
            .await?;
        for (id, _) in &chosen {
            sqlx::query("INSERT INTO station_offers (station_id, service_id) VALUES ($1, $2)")
                .bind(station_id)
                .bind(id)
                .execute(tx.conn())
                .await?;
        }
        sqlx::query("UPDATE stations SET open = $1 WHERE id = $2")
            .bind(i64::from(open))
            .bind(station_id)
            .execute(tx.conn())
            .await?;
        let mut after: Vec<&str> = chosen.iter().map(|(_, n)| n.as_str()).collect();
        after.sort_unstable();
        let mut before_sorted = before.clone();
        before_sorted.sort_unstable();
        audit::record(
            tx.conn(),
            actor,
            now,
            Change::update(
                "station",
                &station.name,
                &station.org_path,
                json!({ "services": before_sorted, "open": station.open }),
                json!({ "services": after, "open": open }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

pub(crate) fn follow_tree<'c>(
    conn: &'c mut AnyConnection,
    _actor: &'c Actor,
    event: &'c TreeEvent<'c>,
    _now: i64,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + 'c>> {
    Box::pin(async move {
        if let TreeEvent::Moved { old_path, new_path } = *event {
            for table in [
                "stations",
                "station_services",
                "service_requests",
                "station_tallies",
            ] {
                crate::kernel::move_paths(&mut *conn, table, "org_path", old_path, new_path)
                    .await?;
            }
        }
        Ok(())
    })
}
