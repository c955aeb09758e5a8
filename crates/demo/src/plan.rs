//! The demo's campaign (百村示范、千村晋位, 2015–2018) with the article's targets: by the end of
//! 2016, 80 pioneer villages, 70 % of village organizations advanced and 60 % of townships
//! advanced as a whole; by the end, every village at four stars or more, about 100 pioneers,
//! every township advanced and about 10 model townships. The figures against them are counted
//! from the demo's ratings.

use baiqian_domain::plan::{AdvancementRule, TargetMeasure};
use baiqian_domain::role::Role;
use baiqian_store::plan::{NewCampaign, Target};
use baiqian_store::{Db, StoreError};

/// The campaign's targets: (year, measure, goal, due).
pub const TARGETS: &[(i64, TargetMeasure, i64, &str)] = &[
    (2016, TargetMeasure::PioneerVillages, 80, "2016-12-31"),
    (2016, TargetMeasure::VillagesAdvanced, 70, "2016-12-31"),
    (2016, TargetMeasure::TownshipsAdvanced, 60, "2016-12-31"),
    (2018, TargetMeasure::VillagesAtFourStars, 100, "2018-12-31"),
    (2018, TargetMeasure::PioneerVillages, 100, "2018-12-31"),
    (2018, TargetMeasure::TownshipsAdvanced, 100, "2018-12-31"),
    (2018, TargetMeasure::ModelTownships, 10, "2018-12-31"),
];

pub async fn build(db: &Db, now: i64) -> Result<(), StoreError> {
    let city = &crate::ratings::actor("demo", Role::CityAdmin, "330500", "/330500/")?;
    let campaign = db
        .create_campaign(
            city,
            NewCampaign {
                name: "百村示范、千村晋位".into(),
                first_year: 2015,
                last_year: 2018,
                rule: AdvancementRule::default(),
            },
            now,
        )
        .await?;
    for &(year, measure, goal, due) in TARGETS {
        let target = Target {
            year,
            measure,
            goal,
            due: due.into(),
        };
        db.set_target(city, &campaign, &target, now).await?;
    }
    Ok(())
}
