//! A tenant's realism setting: a named profile, a seed and overrides. The
//! effective [`Settings`] are the profile's magnitudes with the overrides laid
//! over them; only the profile, seed and overrides are stored (state files,
//! the control API), so a profile's defaults can be tuned without rewriting
//! saved tenants.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The named starting points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Today's deterministic mock: nothing lags, nothing is throttled.
    #[default]
    Off,
    /// What a real tenant does, at the typical end of each range.
    Entra,
    /// Everything `entra` does at the unkind end of each range, plus the
    /// legal-but-rare response shapes.
    Adversarial,
}

impl Profile {
    pub fn name(self) -> &'static str {
        match self {
            Profile::Off => "off",
            Profile::Entra => "entra",
            Profile::Adversarial => "adversarial",
        }
    }

    pub fn parse(name: &str) -> Option<Profile> {
        match name.to_ascii_lowercase().as_str() {
            "off" => Some(Profile::Off),
            "entra" => Some(Profile::Entra),
            "adversarial" => Some(Profile::Adversarial),
            _ => None,
        }
    }
}

/// The tenant-size classes of Graph's identity throttling (under 50 users,
/// 50–500, above 500), or `auto` to count the tenant's users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TenantSize {
    Auto,
    Small,
    Medium,
    Large,
}

/// Chances of a random failure per request, for one method.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRates {
    #[serde(rename = "429", default)]
    pub throttled: f64,
    #[serde(rename = "503", default)]
    pub unavailable: f64,
    #[serde(rename = "504", default)]
    pub gateway_timeout: f64,
}

/// Every magnitude realism uses, resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    pub profile: Profile,
    pub seed: u64,
    /// How long after a write other replicas may not have it (tenant clock).
    pub replication_min_seconds: f64,
    pub replication_max_seconds: f64,
    /// Chance that an app-only read by id of an object still inside its
    /// window lands on a replica without it (404).
    pub not_found_probability: f64,
    /// Chance that a list page leaves out an object still inside its window.
    pub list_omit_probability: f64,
    /// A delegated session reads its own writes (Entra keeps a user's session
    /// on one replica); app-only clients do not.
    pub delegated_read_your_writes: bool,
    /// How long after a consent or role change new tokens still carry the
    /// claims from before it.
    pub token_propagation_min_seconds: f64,
    pub token_propagation_max_seconds: f64,
    /// Resource-unit and write-quota throttling.
    pub throttling: bool,
    pub tenant_size: TenantSize,
    /// Overrides the size class's resource-unit budget per 10 s.
    pub read_units_per10s: Option<u32>,
    /// Writes per application per tenant per 150 s.
    pub write_quota_per150s: u32,
    /// Writes per tenant (all applications) per 300 s.
    pub tenant_write_quota_per300s: u32,
    /// Added latency, real time; 0 for none.
    pub latency_p50_ms: f64,
    pub latency_p99_ms: f64,
    /// Random failures by HTTP method (`"*"` for any other method).
    pub random_faults: BTreeMap<String, FaultRates>,
    /// Pages shorter than `$top` asks for.
    pub short_pages: bool,
    /// Now and then a page with no items that still has an `@odata.nextLink`.
    pub empty_pages_with_next_link: bool,
    /// Skip tokens in two formats that alternate from page to page.
    pub changing_skip_tokens: bool,
    /// Properties v1.0 does not (yet) define, on every entity.
    pub unknown_properties: bool,
    /// Entity properties in an order of Graph's choosing, not the schema's.
    pub shuffled_property_order: bool,
}

/// The overridable fields, by their wire names, with what each must be.
const FIELDS: &[(&str, Kind)] = &[
    ("replicationMinSeconds", Kind::Seconds),
    ("replicationMaxSeconds", Kind::Seconds),
    ("notFoundProbability", Kind::Probability),
    ("listOmitProbability", Kind::Probability),
    ("delegatedReadYourWrites", Kind::Bool),
    ("tokenPropagationMinSeconds", Kind::Seconds),
    ("tokenPropagationMaxSeconds", Kind::Seconds),
    ("throttling", Kind::Bool),
    ("tenantSize", Kind::Size),
    ("readUnitsPer10s", Kind::PositiveOrNull),
    ("writeQuotaPer150s", Kind::Positive),
    ("tenantWriteQuotaPer300s", Kind::Positive),
    ("latencyP50Ms", Kind::Seconds),
    ("latencyP99Ms", Kind::Seconds),
    ("randomFaults", Kind::Faults),
    ("shortPages", Kind::Bool),
    ("emptyPagesWithNextLink", Kind::Bool),
    ("changingSkipTokens", Kind::Bool),
    ("unknownProperties", Kind::Bool),
    ("shuffledPropertyOrder", Kind::Bool),
];

#[derive(Debug, Clone, Copy)]
enum Kind {
    Seconds,
    Probability,
    Bool,
    Size,
    Positive,
    PositiveOrNull,
    Faults,
}

/// What a tenant stores: the profile, the seed and the overrides as sent.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RealismConfig {
    pub profile: Profile,
    #[serde(default)]
    pub seed: u64,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub overrides: Map<String, Value>,
}

impl RealismConfig {
    pub fn new(profile: Profile, seed: u64) -> Self {
        RealismConfig { profile, seed, overrides: Map::new() }
    }

    /// The control API's body: `{"profile": "entra", "seed": 7, ...overrides}`.
    /// A missing profile or seed keeps `current`'s; overrides replace the old
    /// ones only when the profile or any override is sent.
    pub fn from_body(body: &Value, current: &RealismConfig) -> Result<RealismConfig, String> {
        let Some(obj) = body.as_object() else {
            return Err("send a JSON object, e.g. {\"profile\": \"entra\", \"seed\": 7}".to_owned());
        };
        let profile = match obj.get("profile") {
            None => current.profile,
            Some(Value::String(p)) => Profile::parse(p)
                .ok_or_else(|| format!("unknown profile '{p}'; use \"off\", \"entra\" or \"adversarial\""))?,
            Some(_) => return Err("\"profile\" must be a string: \"off\", \"entra\" or \"adversarial\"".to_owned()),
        };
        let seed = match obj.get("seed") {
            None => current.seed,
            Some(v) => v.as_u64().ok_or("\"seed\" must be a non-negative integer")?,
        };
        let mut overrides = Map::new();
        for (k, v) in obj {
            if k == "profile" || k == "seed" {
                continue;
            }
            let Some((_, kind)) = FIELDS.iter().find(|(name, _)| name == k) else {
                let known: Vec<&str> = FIELDS.iter().map(|(n, _)| *n).collect();
                return Err(format!(
                    "unknown realism setting '{k}'; the settings are profile, seed, {}",
                    known.join(", ")
                ));
            };
            check(k, *kind, v)?;
            overrides.insert(k.clone(), v.clone());
        }
        let keep_old = !obj.contains_key("profile") && overrides.is_empty();
        let overrides = if keep_old { current.overrides.clone() } else { overrides };
        let config = RealismConfig { profile, seed, overrides };
        let s = config.settings();
        if s.replication_min_seconds > s.replication_max_seconds {
            return Err("replicationMinSeconds must not exceed replicationMaxSeconds".to_owned());
        }
        if s.token_propagation_min_seconds > s.token_propagation_max_seconds {
            return Err("tokenPropagationMinSeconds must not exceed tokenPropagationMaxSeconds".to_owned());
        }
        if s.latency_p50_ms > s.latency_p99_ms {
            return Err("latencyP50Ms must not exceed latencyP99Ms".to_owned());
        }
        Ok(config)
    }

    /// The profile's magnitudes with the overrides applied.
    pub fn settings(&self) -> Settings {
        let mut s = Settings::of(self.profile, self.seed);
        for (k, v) in &self.overrides {
            s.apply(k, v);
        }
        s
    }
}

fn check(name: &str, kind: Kind, v: &Value) -> Result<(), String> {
    let ok = match kind {
        Kind::Seconds => v.as_f64().is_some_and(|x| x.is_finite() && (0.0..=86_400.0 * 365.0).contains(&x)),
        Kind::Probability => v.as_f64().is_some_and(|x| (0.0..=1.0).contains(&x)),
        Kind::Bool => v.is_boolean(),
        Kind::Size => v.as_str().is_some_and(|s| matches!(s, "auto" | "small" | "medium" | "large")),
        Kind::Positive => v.as_u64().is_some_and(|x| (1..=u64::from(u32::MAX)).contains(&x)),
        Kind::PositiveOrNull => v.is_null() || v.as_u64().is_some_and(|x| (1..=u64::from(u32::MAX)).contains(&x)),
        Kind::Faults => {
            return serde_json::from_value::<BTreeMap<String, FaultRates>>(v.clone())
                .map_err(|e| format!("\"{name}\" must look like {{\"GET\": {{\"429\": 0.01, \"503\": 0.001, \"504\": 0.001}}, \"*\": {{…}}}}: {e}"))
                .and_then(|m| {
                    let bad = m.values().any(|r| {
                        [r.throttled, r.unavailable, r.gateway_timeout].iter().any(|p| !(0.0..=1.0).contains(p))
                    });
                    if bad {
                        Err(format!("\"{name}\": every probability must be between 0 and 1"))
                    } else {
                        Ok(())
                    }
                })
        }
    };
    if ok {
        return Ok(());
    }
    let want = match kind {
        Kind::Seconds => "a non-negative number",
        Kind::Probability => "a number between 0 and 1",
        Kind::Bool => "true or false",
        Kind::Size => "\"auto\", \"small\", \"medium\" or \"large\"",
        Kind::Positive => "a positive integer",
        Kind::PositiveOrNull => "a positive integer, or null for the tenant size's budget",
        Kind::Faults => unreachable!("returned above"),
    };
    Err(format!("\"{name}\" must be {want}"))
}

impl Settings {
    /// A profile's magnitudes. Which of these are documented and which are
    /// guesses is listed in the README's realism section.
    pub fn of(profile: Profile, seed: u64) -> Settings {
        let off = Settings {
            profile,
            seed,
            replication_min_seconds: 0.0,
            replication_max_seconds: 0.0,
            not_found_probability: 0.0,
            list_omit_probability: 0.0,
            delegated_read_your_writes: true,
            token_propagation_min_seconds: 0.0,
            token_propagation_max_seconds: 0.0,
            throttling: false,
            tenant_size: TenantSize::Auto,
            read_units_per10s: None,
            write_quota_per150s: 3000,
            tenant_write_quota_per300s: 18_000,
            latency_p50_ms: 0.0,
            latency_p99_ms: 0.0,
            random_faults: BTreeMap::new(),
            short_pages: false,
            empty_pages_with_next_link: false,
            changing_skip_tokens: false,
            unknown_properties: false,
            shuffled_property_order: false,
        };
        let rates =
            |p429: f64, p503: f64, p504: f64| FaultRates { throttled: p429, unavailable: p503, gateway_timeout: p504 };
        match profile {
            Profile::Off => off,
            Profile::Entra => Settings {
                replication_min_seconds: 1.0,
                replication_max_seconds: 10.0,
                not_found_probability: 0.5,
                list_omit_probability: 0.5,
                token_propagation_min_seconds: 5.0,
                token_propagation_max_seconds: 30.0,
                throttling: true,
                latency_p50_ms: 40.0,
                latency_p99_ms: 250.0,
                random_faults: BTreeMap::from([
                    ("GET".to_owned(), rates(0.0, 0.002, 0.001)),
                    ("*".to_owned(), rates(0.0, 0.001, 0.001)),
                ]),
                ..off
            },
            Profile::Adversarial => Settings {
                replication_min_seconds: 5.0,
                replication_max_seconds: 45.0,
                not_found_probability: 0.9,
                list_omit_probability: 0.9,
                delegated_read_your_writes: false,
                token_propagation_min_seconds: 30.0,
                token_propagation_max_seconds: 120.0,
                throttling: true,
                tenant_size: TenantSize::Small,
                latency_p50_ms: 80.0,
                latency_p99_ms: 1500.0,
                random_faults: BTreeMap::from([
                    ("GET".to_owned(), rates(0.01, 0.02, 0.01)),
                    ("*".to_owned(), rates(0.005, 0.01, 0.005)),
                ]),
                short_pages: true,
                empty_pages_with_next_link: true,
                changing_skip_tokens: true,
                unknown_properties: true,
                shuffled_property_order: true,
                ..off
            },
        }
    }

    fn apply(&mut self, name: &str, v: &Value) {
        let f = || v.as_f64().unwrap_or(0.0);
        let b = || v.as_bool().unwrap_or(false);
        let n = || v.as_u64().and_then(|x| u32::try_from(x).ok()).unwrap_or(1);
        match name {
            "replicationMinSeconds" => self.replication_min_seconds = f(),
            "replicationMaxSeconds" => self.replication_max_seconds = f(),
            "notFoundProbability" => self.not_found_probability = f(),
            "listOmitProbability" => self.list_omit_probability = f(),
            "delegatedReadYourWrites" => self.delegated_read_your_writes = b(),
            "tokenPropagationMinSeconds" => self.token_propagation_min_seconds = f(),
            "tokenPropagationMaxSeconds" => self.token_propagation_max_seconds = f(),
            "throttling" => self.throttling = b(),
            "tenantSize" => {
                self.tenant_size = serde_json::from_value(v.clone()).unwrap_or(TenantSize::Auto);
            }
            "readUnitsPer10s" => self.read_units_per10s = v.as_u64().and_then(|x| u32::try_from(x).ok()),
            "writeQuotaPer150s" => self.write_quota_per150s = n(),
            "tenantWriteQuotaPer300s" => self.tenant_write_quota_per300s = n(),
            "latencyP50Ms" => self.latency_p50_ms = f(),
            "latencyP99Ms" => self.latency_p99_ms = f(),
            "randomFaults" => self.random_faults = serde_json::from_value(v.clone()).unwrap_or_default(),
            "shortPages" => self.short_pages = b(),
            "emptyPagesWithNextLink" => self.empty_pages_with_next_link = b(),
            "changingSkipTokens" => self.changing_skip_tokens = b(),
            "unknownProperties" => self.unknown_properties = b(),
            "shuffledPropertyOrder" => self.shuffled_property_order = b(),
            _ => {}
        }
    }

    /// Whether anything at all differs from `off`.
    pub fn is_active(&self) -> bool {
        *self != Settings::of(Profile::Off, self.seed)
    }

    /// Whether any response shape is rewritten.
    pub(crate) fn reshapes(&self) -> bool {
        self.short_pages
            || self.empty_pages_with_next_link
            || self.changing_skip_tokens
            || self.unknown_properties
            || self.shuffled_property_order
    }

    /// The random-failure chances for `method`.
    pub(crate) fn faults_for(&self, method: &str) -> FaultRates {
        self.random_faults.get(method).or_else(|| self.random_faults.get("*")).copied().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn off_is_inactive_and_the_other_profiles_are_not() {
        assert!(!Settings::of(Profile::Off, 7).is_active());
        assert!(Settings::of(Profile::Entra, 7).is_active());
        assert!(Settings::of(Profile::Adversarial, 7).is_active());
    }

    #[test]
    fn overrides_lay_over_the_profile_and_are_kept_as_sent() {
        let body = json!({"profile": "entra", "seed": 9, "latencyP50Ms": 0, "latencyP99Ms": 0, "tenantSize": "large"});
        let c = RealismConfig::from_body(&body, &RealismConfig::default()).expect("valid");
        let s = c.settings();
        assert_eq!((s.profile, s.seed, s.latency_p99_ms, s.tenant_size), (Profile::Entra, 9, 0.0, TenantSize::Large));
        assert!(s.throttling, "from the profile");
        assert_eq!(c.overrides.len(), 3);
        let seed_only = RealismConfig::from_body(&json!({"seed": 10}), &c).expect("valid");
        assert_eq!((seed_only.seed, seed_only.overrides.len()), (10, 3), "a seed-only body keeps the overrides");
    }

    #[test]
    fn bad_settings_are_refused_with_what_to_send() {
        let cur = RealismConfig::default();
        let err = |b: Value| RealismConfig::from_body(&b, &cur).expect_err("refused");
        assert!(err(json!({"profile": "kind"})).contains("use \"off\", \"entra\" or \"adversarial\""));
        assert!(err(json!({"seed": -1})).contains("non-negative integer"));
        assert!(err(json!({"notFoundProbability": 2})).contains("between 0 and 1"));
        assert!(err(json!({"nonsense": 1})).contains("unknown realism setting 'nonsense'"));
        assert!(err(json!({"randomFaults": {"GET": {"429": 3}}})).contains("between 0 and 1"));
        assert!(err(json!({"profile": "entra", "replicationMinSeconds": 20, "replicationMaxSeconds": 5}))
            .contains("must not exceed"));
        assert!(err(json!([])).contains("JSON object"));
    }

    #[test]
    fn a_config_round_trips_through_json_and_defaults_to_off() {
        let c = RealismConfig::from_body(
            &json!({"profile": "adversarial", "seed": 3, "shortPages": false}),
            &RealismConfig::default(),
        )
        .expect("valid");
        let back: RealismConfig = serde_json::from_value(serde_json::to_value(&c).expect("serializes")).expect("loads");
        assert_eq!(back, c);
        let old: RealismConfig = serde_json::from_value(json!({"profile": "off"})).expect("loads");
        assert_eq!(old, RealismConfig::default());
    }
}
