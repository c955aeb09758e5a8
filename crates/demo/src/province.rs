//! Generated provinces for the benchmarks: the tree and its roster at any size.

use super::*;

/// A generated province for benchmarks: one root (代码 330000) over `villages / 200` counties of
/// 10 townships of 20 villages each. Names and codes are invented; the shape is the point.
pub fn province(villages: usize) -> Result<Vec<BulkOrg>, org::OrgError> {
    province_of(villages, 10)
}

/// A generated province of `villages / 200` counties, each of `townships` townships (1–99) that
/// share its 200 villages as evenly as they go: 20,000 villages in 1,500 townships with 15.
pub fn province_of(villages: usize, townships: usize) -> Result<Vec<BulkOrg>, org::OrgError> {
    let townships = townships.clamp(1, 99);
    let counties = villages.div_ceil(200).max(1);
    let mut out = Vec::with_capacity(villages + counties * (townships + 1) + 1);
    let root_path = "/330000/".to_string();
    out.push(bulk(
        "330000",
        "模拟省",
        Level::City,
        "330000",
        &root_path,
        0,
        None,
        true,
    )?);
    let mut left = villages;
    for c in 0..counties {
        let c_code = format!("33{:04}", 100 + c);
        let c_path = format!("{root_path}{c_code}/");
        out.push(bulk(
            &c_code,
            &format!("模拟{}县", c + 1),
            Level::County,
            "330000",
            &c_path,
            0,
            None,
            true,
        )?);
        for t in 0..townships {
            let t_code = format!("{c_code}{:03}", 101 + t);
            let t_path = format!("{c_path}{t_code}/");
            out.push(bulk(
                &t_code,
                &format!("模拟{}县{}镇", c + 1, t + 1),
                Level::Township,
                &c_code,
                &t_path,
                0,
                None,
                true,
            )?);
            // This township's share of the county's 200 villages.
            for v in 0..((t + 1) * 200 / townships - t * 200 / townships) {
                if left == 0 {
                    break;
                }
                left -= 1;
                let v_code = format!("{t_code}{:03}", 201 + v);
                out.push(bulk(
                    &v_code,
                    &format!("模拟{}县{}镇{}村", c + 1, t + 1, v + 1),
                    Level::Village,
                    &t_code,
                    &format!("{t_path}{v_code}/"),
                    0,
                    None,
                    true,
                )?);
            }
        }
    }
    Ok(out)
}

/// A generated roster for the villages of `villages` (a slice of `province`): `per_village`
/// members each, with valid ID numbers (unique within one province), no phones.
pub fn province_roster(
    villages: &[BulkOrg],
    per_village: usize,
) -> Result<Vec<NewMember>, baiqian_domain::member::MemberError> {
    use baiqian_domain::member::{Gender, IdNumber, with_check_digit};
    let mut out = Vec::with_capacity(villages.len() * per_village);
    for b in villages.iter().filter(|b| b.org.level == Level::Village) {
        // The village's last three digits and the member's index make the birth date and
        // sequence unique within the county (the ID's region).
        let v: usize = b.org.code.as_str()[9..].parse().unwrap_or(0);
        let t: usize = b.org.code.as_str()[6..9].parse().unwrap_or(0);
        for i in 0..per_village {
            let n = ((t % 100) * 20 + v % 20) * per_village + i;
            let year = 1940 + (n / 336) % 56;
            let month = 1 + (n / 28) % 12;
            let day = 1 + n % 28;
            let seq = (n / (336 * 56)) * 2 + 1;
            let region = &b.org.code.as_str()[..6];
            let Some(id) = with_check_digit(&format!(
                "{region}{year:04}{month:02}{day:02}{:03}",
                seq % 1000
            )) else {
                continue;
            };
            out.push(NewMember {
                name: format!(
                    "{}{}",
                    SURNAMES[n % SURNAMES.len()],
                    GIVEN[(n / 16) % GIVEN.len()]
                ),
                gender: Gender::M,
                birth_date: format!("{year:04}-{month:02}-{day:02}"),
                id_number: IdNumber::parse(&id)?,
                phone: None,
                home_org: b.org.code.clone(),
                joined: format!("{:04}-07-01", (year + 25).min(2015)),
                confirmed: None,
                workplace: None,
                mobile: false,
                mobile_where: None,
            });
        }
    }
    Ok(out)
}
