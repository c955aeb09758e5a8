//! The credit loans of the mutual-aid associations (党群创业互助会的创业信用贷款): a programme's
//! terms as data, the repayment schedule, how a repayment is applied, and when a loan is
//! overdue. Money is whole fen throughout; where a division leaves a remainder the rule is
//! stated beside it, and every schedule sums exactly to its principal plus its interest.
//!
//! A worked example (the test `a_worked_example_of_equal_instalments`): 100,000 yuan over 12
//! months at 6% a year, equal instalments (等额本息). The monthly rate is 6% / 12 = 0.5%; the
//! instalment is P·r / (1 − (1 + r)^−n) = 8,606.64 yuan, rounded half up to the fen. Each month
//! the interest is the outstanding principal × 0.5%, rounded half up to the fen (500.00 yuan in
//! the first month), and the rest of the instalment repays principal (8,106.64 yuan). The last
//! instalment repays exactly the principal left, so it may differ from the others by a few fen:
//! here 8,606.69 yuan (42.82 of interest, 8,563.87 of principal). In all, 103,279.73 yuan:
//! 100,000 of principal and 3,279.73 of interest.
//!
//! With interest monthly (按月付息、到期还本) each month pays the whole principal × the monthly
//! rate (rounded half up) and the last month also the principal.

use chrono::{Months, NaiveDate};
use serde::Serialize;

use crate::Msg;
use crate::money::Fen;

/// How a loan is repaid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RepaymentMethod {
    /// 等额本息: the same instalment each month (the last one evens out the fen).
    EqualInstalments,
    /// 按月付息、到期还本: interest each month, the principal with the last.
    InterestMonthly,
}

impl RepaymentMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            RepaymentMethod::EqualInstalments => "equal_instalments",
            RepaymentMethod::InterestMonthly => "interest_monthly",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "equal_instalments" => Some(RepaymentMethod::EqualInstalments),
            "interest_monthly" => Some(RepaymentMethod::InterestMonthly),
            _ => None,
        }
    }

    /// The method as officials write it in a ledger.
    pub fn from_word(word: &str) -> Option<Self> {
        match word.trim() {
            "等额本息" | "equal_instalments" => Some(RepaymentMethod::EqualInstalments),
            "按月付息到期还本" | "按月付息、到期还本" | "先息后本" | "interest_monthly" => {
                Some(RepaymentMethod::InterestMonthly)
            }
            _ => None,
        }
    }
}

/// The highest yearly rate a programme may set, in basis points (万分之一): 24%.
pub const MAX_RATE_BP: i64 = 2400;
/// The longest term, in months.
pub const MAX_MONTHS: u32 = 120;

/// A loan's terms: how much, at what yearly rate (basis points: 435 is 4.35%), over how many
/// months, repaid how, with the first instalment due on `first_due` and each next one on the
/// same day of the following months (the month's last day when it has no such day).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoanTerms {
    pub principal: Fen,
    pub annual_rate_bp: i64,
    pub months: u32,
    pub method: RepaymentMethod,
    pub first_due: NaiveDate,
}

/// One instalment of a schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instalment {
    /// 1-based.
    pub n: u32,
    pub due: NaiveDate,
    pub principal: Fen,
    pub interest: Fen,
}

impl Instalment {
    pub fn total(&self) -> Fen {
        Fen(self.principal.0 + self.interest.0)
    }
}

/// A month's interest on `outstanding` at `annual_rate_bp`: outstanding × rate / 12, rounded
/// half up to the fen.
pub fn month_interest(outstanding: Fen, annual_rate_bp: i64) -> Fen {
    let num = i128::from(outstanding.0) * i128::from(annual_rate_bp);
    // × 2 + divisor, ÷ (2 × divisor): half up for the non-negative amounts a loan has.
    let fen = (2 * num + 120_000) / 240_000;
    Fen(i64::try_from(fen).unwrap_or(i64::MAX))
}

/// The schedule of a loan; terms out of bounds are refused with the reason.
pub fn schedule(terms: &LoanTerms) -> Result<Vec<Instalment>, Msg> {
    let p = terms.principal.0;
    if p <= 0 || p > 100_000_000_000 {
        return Err(Msg::new("aid.error.principal"));
    }
    if !(0..=MAX_RATE_BP).contains(&terms.annual_rate_bp) {
        return Err(Msg::new("aid.error.rate").arg("max", MAX_RATE_BP as f64 / 100.0));
    }
    if !(1..=MAX_MONTHS).contains(&terms.months) {
        return Err(Msg::new("aid.error.months").arg("max", MAX_MONTHS));
    }
    let n = terms.months;
    let level = match terms.method {
        RepaymentMethod::EqualInstalments => Some(level_instalment(p, terms.annual_rate_bp, n)),
        RepaymentMethod::InterestMonthly => None,
    };
    let mut outstanding = p;
    let mut out = Vec::with_capacity(n as usize);
    for k in 1..=n {
        let due = terms
            .first_due
            .checked_add_months(Months::new(k - 1))
            .ok_or_else(|| Msg::new("aid.error.months").arg("max", MAX_MONTHS))?;
        let interest = month_interest(Fen(outstanding), terms.annual_rate_bp).0;
        let principal = if k == n {
            outstanding
        } else {
            match level {
                // What the instalment leaves after interest, never more than is owed.
                Some(pay) => (pay - interest).clamp(0, outstanding),
                None => 0,
            }
        };
        outstanding -= principal;
        out.push(Instalment {
            n: k,
            due,
            principal: Fen(principal),
            interest: Fen(interest),
        });
    }
    Ok(out)
}

/// The level instalment of `p` fen over `n` months at `bp` a year, rounded half up to the fen
/// (`p / n`, rounded up, at no interest). Floating point is used only for this one figure,
/// which the schedule then treats as a given amount of fen.
fn level_instalment(p: i64, bp: i64, n: u32) -> i64 {
    if bp == 0 {
        return (p + i64::from(n) - 1) / i64::from(n);
    }
    let r = bp as f64 / 120_000.0;
    let pay = p as f64 * r / (1.0 - (1.0 + r).powi(-(n as i32)));
    pay.round() as i64
}

/// How a repayment is split: the penalty owed first, then each instalment in turn, oldest
/// first, its interest before its principal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Allocation {
    pub penalty: Fen,
    pub interest: Fen,
    pub principal: Fen,
}

/// Applies `amount` to a loan with `schedule`, of whose instalments `paid` fen have been paid
/// already (interest and principal together) and which owes `penalty` fen of penalties. A
/// repayment of nothing, or of more than is owed in all, is refused, saying how much is owed.
pub fn allocate(
    schedule: &[Instalment],
    paid: Fen,
    penalty: Fen,
    amount: Fen,
) -> Result<Allocation, Msg> {
    let scheduled: i64 = schedule.iter().map(|i| i.total().0).sum();
    let owed = scheduled - paid.0 + penalty.0;
    if amount.0 <= 0 {
        return Err(Msg::new("aid.error.amount"));
    }
    if amount.0 > owed {
        return Err(Msg::new("aid.error.overpaid").arg("owed", Fen(owed.max(0)).yuan_text()));
    }
    let to_penalty = amount.0.min(penalty.0);
    let mut rest = amount.0 - to_penalty;
    // The instalments' parts in the order they are paid, skipping what `paid` already covers.
    let mut covered = paid.0;
    let mut a = Allocation {
        penalty: Fen(to_penalty),
        ..Allocation::default()
    };
    for i in schedule {
        for (part, is_interest) in [(i.interest.0, true), (i.principal.0, false)] {
            let left = (part - covered).max(0);
            covered = (covered - part).max(0);
            let take = left.min(rest);
            rest -= take;
            if is_interest {
                a.interest.0 += take;
            } else {
                a.principal.0 += take;
            }
        }
        if rest == 0 {
            break;
        }
    }
    Ok(a)
}

/// Whether a loan is overdue on `today`: an instalment due before today not yet covered by
/// what has been paid (`paid`, interest and principal together). The loan turns overdue the
/// day after the missed instalment. Returns that instalment and the amount then unpaid.
pub fn overdue(schedule: &[Instalment], paid: Fen, today: NaiveDate) -> Option<(u32, Fen)> {
    let mut due_so_far = 0;
    let mut first = None;
    for i in schedule.iter().take_while(|i| i.due < today) {
        due_so_far += i.total().0;
        if first.is_none() && due_so_far > paid.0 {
            first = Some(i.n);
        }
    }
    first.map(|n| (n, Fen(due_so_far - paid.0)))
}

/// The stages of a credit loan (申请 → 初审 → 审批 → 放款 → 还款 → 结清).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LoanStage {
    Applied,
    Reviewed,
    Approved,
    Disbursed,
    Repaid,
    Refused,
}

impl LoanStage {
    pub fn as_str(self) -> &'static str {
        match self {
            LoanStage::Applied => "applied",
            LoanStage::Reviewed => "reviewed",
            LoanStage::Approved => "approved",
            LoanStage::Disbursed => "disbursed",
            LoanStage::Repaid => "repaid",
            LoanStage::Refused => "refused",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            LoanStage::Applied,
            LoanStage::Reviewed,
            LoanStage::Approved,
            LoanStage::Disbursed,
            LoanStage::Repaid,
            LoanStage::Refused,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }

    /// The stage a loan may move to from this one: review, approval and disbursement in turn
    /// (a refusal before disbursement), repaid when nothing is owed.
    pub fn may_become(self, next: LoanStage) -> bool {
        matches!(
            (self, next),
            (LoanStage::Applied, LoanStage::Reviewed)
                | (LoanStage::Reviewed, LoanStage::Approved)
                | (LoanStage::Approved, LoanStage::Disbursed)
                | (LoanStage::Disbursed, LoanStage::Repaid)
                | (
                    LoanStage::Applied | LoanStage::Reviewed | LoanStage::Approved,
                    LoanStage::Refused
                )
        )
    }
}

/// Where a loan's first instalment falls: a month after disbursement, on the same day (the
/// month's last day when it has no such day).
pub fn first_due_after(disbursed: NaiveDate) -> Option<NaiveDate> {
    disbursed.checked_add_months(Months::new(1))
}

/// The first instalment not covered by `paid` (interest and principal together), or none when
/// everything is paid.
pub fn next_due(schedule: &[Instalment], paid: Fen) -> Option<NaiveDate> {
    let mut due_so_far = 0;
    schedule.iter().find_map(|i| {
        due_so_far += i.total().0;
        (due_so_far > paid.0).then_some(i.due)
    })
}

/// The stages of a grant (帮扶资金): applied, approved, paid (a refusal before payment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantStage {
    Applied,
    Approved,
    Paid,
    Refused,
}

impl GrantStage {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantStage::Applied => "applied",
            GrantStage::Approved => "approved",
            GrantStage::Paid => "paid",
            GrantStage::Refused => "refused",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            GrantStage::Applied,
            GrantStage::Approved,
            GrantStage::Paid,
            GrantStage::Refused,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }
}

/// What an association founded or built (its outcomes, counted up the tree).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectKind {
    /// 合作社
    Cooperative,
    /// 农业龙头企业
    LeadingFirm,
    /// 创业基地 (an incubation base too)
    StartupBase,
    /// Another base: a nursery (苗木基地), a demonstration plot.
    Base,
}

impl ProjectKind {
    pub const ALL: [ProjectKind; 4] = [
        ProjectKind::Cooperative,
        ProjectKind::LeadingFirm,
        ProjectKind::StartupBase,
        ProjectKind::Base,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProjectKind::Cooperative => "cooperative",
            ProjectKind::LeadingFirm => "leading_firm",
            ProjectKind::StartupBase => "startup_base",
            ProjectKind::Base => "base",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn terms(yuan: i64, bp: i64, months: u32, method: RepaymentMethod) -> LoanTerms {
        LoanTerms {
            principal: Fen::from_yuan(yuan),
            annual_rate_bp: bp,
            months,
            method,
            first_due: day("2015-01-31"),
        }
    }

    fn sums(s: &[Instalment]) -> (i64, i64) {
        (
            s.iter().map(|i| i.principal.0).sum(),
            s.iter().map(|i| i.interest.0).sum(),
        )
    }

    #[test]
    fn a_worked_example_of_equal_instalments() {
        let s = schedule(&terms(100_000, 600, 12, RepaymentMethod::EqualInstalments)).unwrap();
        assert_eq!(s.len(), 12);
        assert_eq!(s[0].total(), Fen(860_664));
        assert_eq!((s[0].interest, s[0].principal), (Fen(50_000), Fen(810_664)));
        assert!(s[..11].iter().all(|i| i.total() == Fen(860_664)));
        assert_eq!(
            (s[11].interest, s[11].principal),
            (Fen(4_282), Fen(856_387))
        );
        assert_eq!(sums(&s), (10_000_000, 327_973));
        // Due on the same day each month, or the month's last day.
        assert_eq!(s[1].due, day("2015-02-28"));
        assert_eq!(s[2].due, day("2015-03-31"));
    }

    #[test]
    fn interest_monthly_pays_the_principal_at_the_end() {
        // 新市镇's largest: 300,000 yuan over 24 months at 4.35%.
        let s = schedule(&terms(300_000, 435, 24, RepaymentMethod::InterestMonthly)).unwrap();
        assert!(s.iter().all(|i| i.interest == Fen(108_750)));
        assert!(s[..23].iter().all(|i| i.principal == Fen(0)));
        assert_eq!(s[23].principal, Fen::from_yuan(300_000));
    }

    #[test]
    fn terms_out_of_bounds_are_refused() {
        for t in [
            terms(0, 435, 12, RepaymentMethod::EqualInstalments),
            terms(1000, 2401, 12, RepaymentMethod::EqualInstalments),
            terms(1000, 435, 0, RepaymentMethod::EqualInstalments),
            terms(1000, 435, 121, RepaymentMethod::EqualInstalments),
        ] {
            assert!(schedule(&t).is_err(), "{t:?}");
        }
        assert_eq!(
            schedule(&terms(1000, 0, 3, RepaymentMethod::EqualInstalments))
                .unwrap()
                .iter()
                .map(|i| i.principal.0)
                .collect::<Vec<_>>(),
            [33_334, 33_334, 33_332]
        );
    }

    #[test]
    fn a_repayment_pays_the_penalty_then_interest_then_principal() {
        let s = schedule(&terms(100_000, 600, 12, RepaymentMethod::EqualInstalments)).unwrap();
        // 20 yuan of penalty, then the first instalment's 500 yuan of interest, then principal.
        let a = allocate(&s, Fen(0), Fen(2_000), Fen(100_000)).unwrap();
        assert_eq!(
            a,
            Allocation {
                penalty: Fen(2_000),
                interest: Fen(50_000),
                principal: Fen(48_000)
            }
        );
        // Then the rest of the first instalment's principal (762,664 fen), and 37,336 fen of
        // the second's interest (45,947 fen).
        assert_eq!(s[1].interest, Fen(45_947));
        let a = allocate(&s, Fen(98_000), Fen(0), Fen(800_000)).unwrap();
        assert_eq!((a.principal, a.interest), (Fen(762_664), Fen(37_336)));
        assert!(allocate(&s, Fen(0), Fen(0), Fen(0)).is_err());
        let all: i64 = s.iter().map(|i| i.total().0).sum();
        assert!(allocate(&s, Fen(0), Fen(0), Fen(all + 1)).is_err());
        assert!(
            allocate(&s, Fen(all), Fen(0), Fen(1)).is_err(),
            "a loan paid off"
        );
    }

    #[test]
    fn a_loan_is_overdue_the_day_after_a_missed_instalment() {
        let s = schedule(&terms(12_000, 0, 12, RepaymentMethod::EqualInstalments)).unwrap();
        assert_eq!(overdue(&s, Fen(0), day("2015-01-31")), None, "due today");
        assert_eq!(
            overdue(&s, Fen(0), day("2015-02-01")),
            Some((1, Fen(100_000)))
        );
        assert_eq!(overdue(&s, Fen(100_000), day("2015-02-01")), None);
        assert_eq!(
            overdue(&s, Fen(150_000), day("2015-03-01")),
            Some((2, Fen(50_000)))
        );
    }

    #[test]
    fn the_next_instalment_due_is_the_first_not_covered() {
        let s = schedule(&terms(12_000, 0, 12, RepaymentMethod::EqualInstalments)).unwrap();
        assert_eq!(next_due(&s, Fen(0)), Some(day("2015-01-31")));
        assert_eq!(next_due(&s, Fen(99_999)), Some(day("2015-01-31")));
        assert_eq!(next_due(&s, Fen(100_000)), Some(day("2015-02-28")));
        assert_eq!(next_due(&s, Fen(1_200_000)), None);
        assert_eq!(first_due_after(day("2015-01-31")), Some(day("2015-02-28")));
    }

    #[test]
    fn stages_move_in_order() {
        assert!(LoanStage::Applied.may_become(LoanStage::Reviewed));
        assert!(!LoanStage::Applied.may_become(LoanStage::Approved));
        assert!(!LoanStage::Disbursed.may_become(LoanStage::Refused));
        assert!(!LoanStage::Repaid.may_become(LoanStage::Disbursed));
        assert_eq!(LoanStage::parse("approved"), Some(LoanStage::Approved));
    }

    /// The interest and principal that `paid` covers when the schedule's parts are paid in
    /// order (each instalment's interest, then its principal), counted directly.
    fn covered(s: &[Instalment], paid: i64) -> (i64, i64) {
        let (mut left, mut interest, mut principal) = (paid, 0, 0);
        for i in s {
            let x = left.min(i.interest.0);
            interest += x;
            left -= x;
            let y = left.min(i.principal.0);
            principal += y;
            left -= y;
        }
        (interest, principal)
    }

    /// A small deterministic generator (xorshift64*): the property tests need no dependency.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
        }
    }

    /// 10,000 random loans: every schedule sums exactly to its principal plus its interest,
    /// owes nothing negative, and any sequence of repayments leaves principal + interest +
    /// penalty = paid + outstanding, paying the principal exactly when it is all repaid.
    #[test]
    fn every_schedule_sums_and_every_repayment_keeps_the_books() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..10_000 {
            let method = if rng.below(2) == 0 {
                RepaymentMethod::EqualInstalments
            } else {
                RepaymentMethod::InterestMonthly
            };
            let t = LoanTerms {
                principal: Fen(1 + rng.below(30_000_000) as i64),
                annual_rate_bp: rng.below(MAX_RATE_BP as u64 + 1) as i64,
                months: 1 + rng.below(u64::from(MAX_MONTHS)) as u32,
                method,
                first_due: day("2015-01-31"),
            };
            let s = schedule(&t).unwrap();
            let (principal, interest) = sums(&s);
            assert_eq!(principal, t.principal.0, "{t:?}");
            assert!(s.iter().all(|i| i.principal.0 >= 0 && i.interest.0 >= 0));
            let total = principal + interest;
            let penalty = rng.below(10_000) as i64;
            let (mut paid, mut penalty_paid, mut principal_paid) = (0i64, 0i64, 0i64);
            while paid + penalty_paid < total + penalty {
                let owed = total + penalty - paid - penalty_paid;
                let amount = 1 + rng.below(owed as u64) as i64;
                let a = allocate(&s, Fen(paid), Fen(penalty - penalty_paid), Fen(amount)).unwrap();
                assert_eq!(a.penalty.0 + a.interest.0 + a.principal.0, amount);
                penalty_paid += a.penalty.0;
                paid += a.interest.0 + a.principal.0;
                principal_paid += a.principal.0;
                // What the repayments paid is what the schedule's parts, paid in order, hold.
                assert_eq!(covered(&s, paid), (paid - principal_paid, principal_paid));
            }
            assert_eq!(
                (paid, penalty_paid, principal_paid),
                (total, penalty, principal)
            );
            assert!(allocate(&s, Fen(paid), Fen(0), Fen(1)).is_err());
        }
    }
}
