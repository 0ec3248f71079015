//! The analytics v6 dataset at any scale: campaigns, daily ad statistics and
//! leads, written as binary COPY. Pure: no database here.
//!
//! Scale N is N times the fixture volume (35 days, 48 campaigns, ~15k leads).
//! Volume grows the way a real account grows: first in history (up to three
//! years ending 2025-10-05, so the suite's parameter windows stay the most
//! recent days), then in daily volume, with campaigns growing alongside so
//! that leads per campaign-day stay realistic. Every value comes from a hash
//! of (seed, stream, key), so the same seed and scale always give the same
//! rows, whichever order or connection writes them.

use super::copy_binary::CopyBuffer;
use chrono::{Days, NaiveDate};
use std::ops::Range;

/// Days of history at scale 1 (the fixture window).
pub const FIXTURE_DAYS: u32 = 35;
/// History stops growing at three years; volume then grows per day.
pub const MAX_DAYS: u32 = 1095;
/// Campaigns at scale 1 (26 Meta, 22 Google, as in the fixtures).
pub const FIXTURE_CAMPAIGNS: u32 = 48;
/// Mean leads per day at scale 1.
pub const LEADS_PER_DAY: f64 = 430.0;
/// The lead fact table: its row count is the volume a scale stands for.
pub const LEADS_TABLE: &str = "dashboards.fact_leads";
/// Relations the generator fills, in load order.
pub const TABLES: &[&str] = &[
    "dashboards.campaigns",
    "dashboards.ad_stats_daily",
    "dashboards.fact_leads",
];

const PRODUCTS: [&str; 5] = ["kitchen", "wardrobe", "bathroom", "windows", "doors"];
const BRANCHES: [&str; 5] = ["north", "south", "east", "west", "center"];
const CITIES: [&str; 5] = ["kyiv", "lviv", "odesa", "dnipro", "kharkiv"];
const META_KINDS: [&str; 6] = [
    "prospecting",
    "lookalike",
    "leadform",
    "video",
    "carousel",
    "stories",
];
const GOOGLE_KINDS: [&str; 6] = [
    "search_brand",
    "search_generic",
    "pmax",
    "display",
    "youtube",
    "discovery",
];

pub fn last_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 10, 5).expect("valid date")
}

/// A campaign and the days (indexes into the plan's history) it runs.
#[derive(Debug, Clone)]
pub struct Campaign {
    pub id: i32,
    pub meta: bool,
    pub name: String,
    pub active: Range<u32>,
    /// Mean daily spend in cents.
    pub budget_cents: f64,
}

/// Everything decided before a single row is written.
#[derive(Debug, Clone)]
pub struct Plan {
    pub scale: f64,
    pub seed: u64,
    pub first_day: NaiveDate,
    pub days: u32,
    pub campaigns: Vec<Campaign>,
    /// Leads created on each day of the history.
    pub day_leads: Vec<u32>,
    /// sk_lead of the first lead of each day (leads are numbered in day order).
    pub day_first_sk: Vec<i64>,
    pub leads: u64,
    day_text: Vec<String>,
    /// Per day: active Meta campaign ids, active Google campaign ids.
    active: Vec<[Vec<i32>; 2]>,
}

/// A hash of (seed, stream, key) as a uniform number in [0, 1).
fn unit(seed: u64, stream: u64, key: u64) -> f64 {
    let h = mix(seed ^ mix(stream.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ mix(key)));
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// splitmix64's finaliser: a cheap, well-mixed 64-bit hash.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

mod stream {
    pub const DAY_VOLUME: u64 = 1;
    pub const CAMPAIGN: u64 = 2;
    pub const EXPORT: u64 = 3;
    pub const STATS: u64 = 4;
    pub const LEAD: u64 = 5;
}

impl Plan {
    /// The plan for `scale` × the fixture volume. Scales are positive and at
    /// most 10000 (150M leads).
    pub fn new(scale: f64, seed: u64) -> Result<Plan, String> {
        if !(scale.is_finite() && scale > 0.0 && scale <= 10_000.0) {
            return Err(format!(
                "scale must be a number above 0 and at most 10000, not {scale}"
            ));
        }
        let volume_days = FIXTURE_DAYS as f64 * scale;
        let days = (volume_days.round() as u32).clamp(1, MAX_DAYS);
        let per_day = volume_days / days as f64; // daily volume multiplier
        let n_campaigns = ((FIXTURE_CAMPAIGNS as f64 * per_day).round() as u32).max(2);
        let n_meta = ((n_campaigns as f64 * 26.0 / 48.0).round() as u32).clamp(1, n_campaigns - 1);
        let first_day = last_day() - Days::new(days as u64 - 1);

        let campaigns: Vec<Campaign> = (1..=n_campaigns)
            .map(|c| {
                let meta = c <= n_meta;
                let nth = if meta { c } else { c - n_meta };
                let u = |k: u64| unit(seed, stream::CAMPAIGN, (c as u64) << 8 | k);
                // The first campaign of each platform runs throughout, so every
                // day has somewhere to attribute its paid leads.
                let start = if nth == 1 || u(1) < 0.7 {
                    0
                } else {
                    (u(2) * days as f64 * 0.8) as u32
                };
                let end = if nth == 1 || u(3) >= 0.1 || start + 1 >= days {
                    days
                } else {
                    start + 1 + (u(4) * (days - start - 1) as f64) as u32
                };
                // Names are unique per platform, not across platforms: the
                // fifth campaign of each shares one (as in the fixtures).
                let name = if nth == 5 {
                    "retargeting_all".to_string()
                } else if meta {
                    format!("meta_{}_{c:02}", META_KINDS[c as usize % 6])
                } else {
                    format!("google_{}_{c:02}", GOOGLE_KINDS[c as usize % 6])
                };
                Campaign {
                    id: c as i32,
                    meta,
                    name,
                    active: start..end,
                    budget_cents: 100.0 * (80.0 + 320.0 * u(5)),
                }
            })
            .collect();

        let mut day_leads = Vec::with_capacity(days as usize);
        let mut day_first_sk = Vec::with_capacity(days as usize);
        let mut day_text = Vec::with_capacity(days as usize);
        let mut active = Vec::with_capacity(days as usize);
        let mut next_sk: i64 = 1_000_001;
        for d in 0..days {
            let u = |k: u64| unit(seed, stream::DAY_VOLUME, (d as u64) << 8 | k);
            // About one day in 200 has no leads at all (a tracking outage).
            let n = if u(1) < 0.005 {
                0
            } else {
                (LEADS_PER_DAY * per_day * (0.85 + 0.3 * u(2))).round() as u32
            };
            day_leads.push(n);
            day_first_sk.push(next_sk);
            next_sk += n as i64;
            let date = first_day + Days::new(d as u64);
            day_text.push(date.format("%Y-%m-%d").to_string());
            let mut lists = [Vec::new(), Vec::new()];
            for c in &campaigns {
                if c.active.contains(&d) {
                    lists[usize::from(!c.meta)].push(c.id);
                }
            }
            active.push(lists);
        }
        let leads = day_leads.iter().map(|&n| n as u64).sum();
        Ok(Plan {
            scale,
            seed,
            first_day,
            days,
            campaigns,
            day_leads,
            day_first_sk,
            leads,
            day_text,
            active,
        })
    }

    pub fn date(&self, day: u32) -> NaiveDate {
        self.first_day + Days::new(day as u64)
    }

    /// Splits the history into at most `parts` contiguous day ranges holding
    /// about the same number of leads (one per loading connection).
    pub fn split_days(&self, parts: usize) -> Vec<Range<u32>> {
        let parts = parts.max(1) as u64;
        let per = self.leads.div_ceil(parts).max(1);
        let mut out = Vec::new();
        let (mut start, mut acc) = (0u32, 0u64);
        for d in 0..self.days {
            acc += self.day_leads[d as usize] as u64;
            if acc >= per && (out.len() as u64) < parts - 1 {
                out.push(start..d + 1);
                start = d + 1;
                acc = 0;
            }
        }
        if start < self.days {
            out.push(start..self.days);
        }
        out
    }

    /// `dashboards.campaigns` rows (campaign_id, platform, campaign_name).
    pub fn write_campaigns(&self, buf: &mut CopyBuffer) -> u64 {
        for c in &self.campaigns {
            buf.row(3);
            buf.int4(c.id);
            buf.text(if c.meta { "meta" } else { "google" });
            buf.text(&c.name);
        }
        self.campaigns.len() as u64
    }

    /// `dashboards.ad_stats_daily` rows of one day (date, campaign_id,
    /// impressions, clicks, spend). About one day in 100 has no export at
    /// all, one campaign-day in 200 is missing, 4% are paused (spend 0).
    pub fn write_ad_stats(&self, day: u32, buf: &mut CopyBuffer) -> u64 {
        if unit(self.seed, stream::EXPORT, day as u64) < 0.01 {
            return 0;
        }
        let date = self.date(day);
        let mut n = 0;
        for c in &self.campaigns {
            if !c.active.contains(&day) {
                continue;
            }
            let u = |k: u64| {
                unit(
                    self.seed,
                    stream::STATS,
                    (c.id as u64) << 40 | (day as u64) << 8 | k,
                )
            };
            if u(1) < 0.005 {
                continue;
            }
            let (imp, clicks, spend) = if u(2) < 0.04 {
                (0, 0, 0)
            } else {
                let spend = (c.budget_cents * (0.75 + 0.5 * u(3))).round() as i64;
                let imp = (spend as f64 / 100.0 * (60.0 + 60.0 * u(4))).round() as i64;
                let clicks = (imp as f64 * (0.008 + 0.02 * u(5))).round() as i64;
                (imp, clicks, spend)
            };
            buf.row(5);
            buf.date(date);
            buf.int4(c.id);
            buf.int8(imp);
            buf.int8(clicks);
            buf.numeric_cents(spend);
            n += 1;
        }
        n
    }

    /// `dashboards.fact_leads` rows of one day, in the table's column order.
    /// Distributions follow fixtures/generate.sql: 55% Meta, 29% Google, 11%
    /// direct, 3% no platform, 2% mixed-case platform; 3.5% sign a contract
    /// (8% of those with amount 0, 6% with none). Dates are always valid text.
    pub fn write_leads(&self, day: u32, buf: &mut CopyBuffer) -> u64 {
        let d = day as usize;
        let date = self.date(day);
        let text = &self.day_text[d];
        let mut contract_id = String::new();
        for i in 0..self.day_leads[d] {
            let sk = self.day_first_sk[d] + i as i64;
            let base = mix(self.seed ^ mix(stream::LEAD ^ mix(sk as u64)));
            let u = |k: u64| {
                (mix(base.wrapping_add(k.wrapping_mul(0x9E37_79B9_7F4A_7C15))) >> 11) as f64
                    / (1u64 << 53) as f64
            };
            let (u1, u2, u3, u4, u5, u6, u7) = (u(1), u(2), u(3), u(4), u(5), u(6), u(7));
            let platform = match u1 {
                x if x < 0.55 => Some("meta"),
                x if x < 0.84 => Some("google"),
                x if x < 0.95 => Some("direct"),
                x if x < 0.98 => None,
                x if x < 0.99 => Some("Meta"),
                _ => Some("GOOGLE"),
            };
            let lower = platform.map(str::to_ascii_lowercase);
            let paid = matches!(lower.as_deref(), Some("meta" | "google"));
            buf.row(13);
            buf.int8(sk);
            buf.text(text);
            match platform {
                Some(p) => buf.text(p),
                None => buf.null(),
            }
            let utm = match lower.as_deref() {
                Some("meta") => Some(if u3 < 0.7 { "facebook" } else { "instagram" }),
                Some("google") => Some(if u3 < 0.9 { "google" } else { "youtube" }),
                Some(_) => (u3 >= 0.6).then_some("newsletter"),
                None => (u3 >= 0.5).then_some("partner_site"),
            };
            match utm {
                Some(s) => buf.text(s),
                None => buf.null(),
            }
            if paid {
                buf.text("cpc");
            } else {
                buf.null();
            }
            let is_paid = if paid {
                (u4 >= 0.03).then_some(true)
            } else if platform == Some("direct") {
                (u4 >= 0.05).then_some(false)
            } else {
                (u4 >= 0.5).then_some(false)
            };
            match is_paid {
                Some(b) => buf.bool(b),
                None => buf.null(),
            }
            if paid {
                let list = &self.active[d][usize::from(lower.as_deref() == Some("google"))];
                buf.int4(list[((u2 * list.len() as f64) as usize).min(list.len() - 1)]);
            } else {
                buf.null();
            }
            if u5 < 0.035 {
                use std::fmt::Write;
                contract_id.clear();
                let _ = write!(contract_id, "C{sk}");
                buf.text(&contract_id);
                buf.date(date + Days::new(3 + (u7 * 18.0) as u64));
                if u6 < 0.08 {
                    buf.numeric_cents(0);
                } else if u6 < 0.14 {
                    buf.null();
                } else {
                    buf.numeric_cents((100.0 * (800.0 + 4200.0 * u7)).round() as i64);
                }
            } else {
                buf.null();
                buf.null();
                buf.null();
            }
            buf.text(PRODUCTS[((u7 * 5.0) as usize).min(4)]);
            buf.text(BRANCHES[((u6 * 5.0) as usize).min(4)]);
            buf.text(CITIES[((u3 * 5.0) as usize).min(4)]);
        }
        self.day_leads[d] as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_one_is_the_fixture_volume() {
        let p = Plan::new(1.0, 7).unwrap();
        assert_eq!(p.days, FIXTURE_DAYS);
        assert_eq!(p.campaigns.len(), 48);
        assert_eq!(p.campaigns.iter().filter(|c| c.meta).count(), 26);
        assert!((14_000..16_000).contains(&p.leads), "{}", p.leads);
        assert_eq!(p.date(p.days - 1), last_day());
    }

    #[test]
    fn volume_grows_with_scale() {
        let one = Plan::new(1.0, 7).unwrap().leads as f64;
        for s in [10.0, 100.0] {
            let p = Plan::new(s, 7).unwrap();
            let ratio = p.leads as f64 / one;
            assert!((ratio / s - 1.0).abs() < 0.05, "scale {s}: ratio {ratio}");
        }
        let big = Plan::new(100.0, 7).unwrap();
        assert_eq!(big.days, MAX_DAYS);
        assert!(big.campaigns.len() > 48);
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let bytes = |seed| {
            let p = Plan::new(2.0, seed).unwrap();
            let mut b = CopyBuffer::default();
            for d in 0..p.days {
                p.write_ad_stats(d, &mut b);
                p.write_leads(d, &mut b);
            }
            b.take()
        };
        assert_eq!(bytes(1), bytes(1));
        assert_ne!(bytes(1), bytes(2));
    }

    #[test]
    fn day_split_covers_history_once() {
        let p = Plan::new(3.0, 1).unwrap();
        for parts in 1..5 {
            let ranges = p.split_days(parts);
            assert!(ranges.len() <= parts);
            assert_eq!(ranges.first().unwrap().start, 0);
            assert_eq!(ranges.last().unwrap().end, p.days);
            for w in ranges.windows(2) {
                assert_eq!(w[0].end, w[1].start);
            }
        }
    }

    #[test]
    fn paid_leads_go_to_campaigns_active_that_day() {
        let p = Plan::new(5.0, 3).unwrap();
        for (d, lists) in p.active.iter().enumerate() {
            assert!(!lists[0].is_empty() && !lists[1].is_empty(), "day {d}");
            for id in lists.iter().flatten() {
                let c = &p.campaigns[*id as usize - 1];
                assert!(c.active.contains(&(d as u32)));
            }
        }
    }

    #[test]
    fn rejects_bad_scales() {
        for s in [0.0, -1.0, f64::NAN, 20_000.0] {
            assert!(Plan::new(s, 1).is_err());
        }
    }
}
