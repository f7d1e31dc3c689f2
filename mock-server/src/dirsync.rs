//! The DirSync state machine.
//!
//! An enum of states and a pure [`step`]: `(state, event, now) → (state,
//! effects)` or a refusal. Nothing here touches the directory; the effects are
//! applied by `directory::organization` under the directory's write lock, in
//! the same critical section as the transition, so users are converted exactly
//! when the tenant reaches `Disabled`.
//!
//! **When the clock moves a pending state on.** `PendingDisabled → Disabled`
//! happens because the tenant clock passed a deadline. The mock delivers that as
//! an explicit [`Event::ClockReached`] at two places: right after
//! `POST /_graphbox/tenants/{tid}/clock/advance`, and at the intake of every
//! request that can observe DirSync (Graph, MSOnline, the sync cycle, the state
//! dump), because a tenant on the system clock also moves without an advance
//! call. The intake check takes the read lock, and the write lock only when a
//! deadline is actually due. The alternative, computing the visible state from
//! `(machine, now)` on every read, would leave the users' conversion (a real
//! write with side effects) to be faked on every projection; and a getter that
//! writes, moto's trap (STYLE.md §4), is exactly what neither approach does.
//!
//! Submodules: [`cycle`], one synchronisation cycle from the control API;
//! [`control`], the control API's view of the machine and its settings.

pub(crate) mod control;
pub(crate) mod cycle;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// The sync client's first-party application: its service principal appears on
/// every enable.
pub(crate) const SYNC_SERVICE_APP_ID: uuid::Uuid = uuid::uuid!("6bf85cfa-ac8a-4be5-b5de-425a0d0dc016");
pub(crate) const SYNC_SERVICE_DISPLAY_NAME: &str = "Microsoft Entra AD Synchronization Service";

/// The one refusal text, for both directions and both APIs.
pub(crate) const CHANGE_REFUSED: &str = "You cannot turn off Active Directory synchronization.";

/// Where a tenant is in the enable/disable workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "camelCase")]
pub(crate) enum State {
    /// A tenant that never synced: Graph shows `onPremisesSyncEnabled: null`.
    NeverSynced,
    PendingEnabled {
        #[serde(with = "time::serde::rfc3339")]
        until: OffsetDateTime,
    },
    Enabled,
    PendingDisabled {
        #[serde(with = "time::serde::rfc3339")]
        until: OffsetDateTime,
    },
    /// Synced once, no longer.
    Disabled,
}

/// What can happen to the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    /// `SetCompanyDirSyncEnabled(true)` or `PATCH /organization {onPremisesSyncEnabled: true}`;
    /// the pending window lasts `pending_for`.
    Enable { pending_for: Duration },
    /// The same calls with `false`.
    Disable { pending_for: Duration },
    /// The tenant clock reads `now`: due deadlines fire.
    ClockReached,
}

/// What the directory must do because of a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    /// Enabling brings the sync service principal (created if absent).
    CreateSyncServicePrincipal,
    /// `Disabled` reached: synced users become cloud users.
    ConvertSyncedUsers,
}

/// A change asked for while a transition is pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refused;

impl State {
    /// MSOnline's `DirSyncStatus` member name (`Other` is never produced).
    pub(crate) fn msol_status(self) -> &'static str {
        match self {
            State::NeverSynced | State::Disabled => "Disabled",
            State::PendingEnabled { .. } => "PendingEnabled",
            State::Enabled => "Enabled",
            State::PendingDisabled { .. } => "PendingDisabled",
        }
    }

    /// The tenant's flag: Graph's `onPremisesSyncEnabled` on the organization and
    /// MSOnline's `DirectorySynchronizationEnabled`. It flips as soon as a change
    /// is accepted; the status carries the pending part (unconfirmed).
    pub(crate) fn flag(self) -> Option<bool> {
        match self {
            State::NeverSynced => None,
            State::PendingEnabled { .. } | State::Enabled => Some(true),
            State::PendingDisabled { .. } | State::Disabled => Some(false),
        }
    }

    pub(crate) fn deadline(self) -> Option<OffsetDateTime> {
        match self {
            State::PendingEnabled { until } | State::PendingDisabled { until } => Some(until),
            _ => None,
        }
    }

    /// Whether a deadline has passed at `now` (a `ClockReached` would move on).
    pub(crate) fn is_due(self, now: OffsetDateTime) -> bool {
        self.deadline().is_some_and(|until| now >= until)
    }
}

/// The transition function. Pure: same inputs, same answer.
pub(crate) fn step(state: State, event: Event, now: OffsetDateTime) -> Result<(State, Vec<Effect>), Refused> {
    use State::*;
    // Deadlines that have passed fire before anything else looks at the state.
    let state = match state {
        PendingEnabled { until } if now >= until => Enabled,
        PendingDisabled { until } if now >= until => {
            let (after, mut effects) = step_settled(Disabled, event, now)?;
            effects.insert(0, Effect::ConvertSyncedUsers);
            return Ok((after, effects));
        }
        other => other,
    };
    step_settled(state, event, now)
}

fn step_settled(state: State, event: Event, now: OffsetDateTime) -> Result<(State, Vec<Effect>), Refused> {
    use State::*;
    match (state, event) {
        (_, Event::ClockReached) => Ok((state, Vec::new())),
        // Nothing else, re-enabling included, is possible while pending; the
        // message does not depend on the direction.
        (PendingEnabled { .. } | PendingDisabled { .. }, Event::Enable { .. } | Event::Disable { .. }) => Err(Refused),
        (NeverSynced | Disabled, Event::Enable { pending_for }) => {
            let next =
                if pending_for <= Duration::ZERO { Enabled } else { PendingEnabled { until: now + pending_for } };
            Ok((next, vec![Effect::CreateSyncServicePrincipal]))
        }
        (Enabled, Event::Disable { pending_for }) => {
            if pending_for <= Duration::ZERO {
                Ok((Disabled, vec![Effect::ConvertSyncedUsers]))
            } else {
                Ok((PendingDisabled { until: now + pending_for }, Vec::new()))
            }
        }
        // Asking for the state the tenant is already in changes nothing.
        (Enabled, Event::Enable { .. }) | (NeverSynced | Disabled, Event::Disable { .. }) => Ok((state, Vec::new())),
    }
}

/// Per-tenant DirSync settings (control API: `GET|PUT …/dirsync`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Settings {
    /// How long `PendingDisabled` lasts. Real: up to 72 h, reports of 24–36 h+.
    pub pending_disabled_seconds: u64,
    /// How long `PendingEnabled` lasts. Real: "usually less than 10 seconds" [O].
    pub pending_enabled_seconds: u64,
    /// Refuse every user create and update while `PendingDisabled` (the vendor
    /// guide's claim); off by default, as the documentation suggests.
    pub strict_pending: bool,
    /// Let app-only tokens PATCH `/directory/onPremisesSynchronization`. v1.0's
    /// docs say delegated only; on by default (what the documented samples suggest).
    pub app_only_sync_update: bool,
}

impl Settings {
    /// Defaults for a tenant created from `seed`: `PendingDisabled` lasts a
    /// whole number of minutes in [24 h, 72 h), the same for the same seed.
    pub(crate) fn for_seed(seed: u64) -> Self {
        let mut ids = crate::ids::IdGen::seeded(seed ^ 0x0D1B_5EC0_0D1B_5EC0);
        let minutes = ids.next_u64() % (48 * 60);
        Settings {
            pending_disabled_seconds: 24 * 3600 + minutes * 60,
            pending_enabled_seconds: 10,
            strict_pending: false,
            app_only_sync_update: true,
        }
    }

    pub(crate) fn pending_disabled(&self) -> Duration {
        Duration::seconds(self.pending_disabled_seconds.min(MAX_PENDING_SECONDS) as i64)
    }

    pub(crate) fn pending_enabled(&self) -> Duration {
        Duration::seconds(self.pending_enabled_seconds.min(MAX_PENDING_SECONDS) as i64)
    }

    /// Settings the control API may not set: a pending window past
    /// [`MAX_PENDING_SECONDS`] would put its deadline past what a clock can show.
    pub(crate) fn check(&self) -> Result<(), String> {
        for (name, seconds) in [
            ("pending_disabled_seconds", self.pending_disabled_seconds),
            ("pending_enabled_seconds", self.pending_enabled_seconds),
        ] {
            if seconds > MAX_PENDING_SECONDS {
                return Err(format!(
                    "{name} is {seconds}; a pending window may last at most {MAX_PENDING_SECONDS} seconds (100 years)"
                ));
            }
        }
        Ok(())
    }
}

/// The longest pending window, 100 years: with tenant clocks stopping at
/// 9000-01-01 every deadline stays representable. Entra's own is 24–72 hours.
pub(crate) const MAX_PENDING_SECONDS: u64 = 100 * 365 * 24 * 3600;

impl Default for Settings {
    fn default() -> Self {
        Settings::for_seed(0)
    }
}

/// A tenant's machine: its state, its settings and the last sync cycle's time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DirSync {
    pub state: State,
    pub settings: Settings,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub last_sync: Option<OffsetDateTime>,
}

impl Default for DirSync {
    fn default() -> Self {
        DirSync { state: State::NeverSynced, settings: Settings::default(), last_sync: None }
    }
}

impl DirSync {
    pub(crate) fn for_seed(seed: u64) -> Self {
        DirSync { settings: Settings::for_seed(seed), ..DirSync::default() }
    }

    /// The event `SetCompanyDirSyncEnabled(enable)` sends, with this tenant's durations.
    pub(crate) fn change(&self, enable: bool) -> Event {
        if enable {
            Event::Enable { pending_for: self.settings.pending_enabled() }
        } else {
            Event::Disable { pending_for: self.settings.pending_disabled() }
        }
    }

    /// Whether strict pending refuses user writes right now.
    pub(crate) fn refuses_user_writes(&self) -> bool {
        self.settings.strict_pending && matches!(self.state, State::PendingDisabled { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-03-02 10:00:00 UTC);
    const H48: Duration = Duration::hours(48);

    fn disable() -> Event {
        Event::Disable { pending_for: H48 }
    }
    fn enable() -> Event {
        Event::Enable { pending_for: Duration::seconds(10) }
    }

    #[test]
    fn a_pending_window_is_capped_so_its_deadline_from_the_latest_clock_stays_representable() {
        let huge = Settings { pending_disabled_seconds: u64::MAX, ..Settings::for_seed(1) };
        assert!(huge.check().is_err());
        // Even unchecked (an old state file), the window is capped, not overflowed.
        let (s, _) =
            step(State::Enabled, Event::Disable { pending_for: huge.pending_disabled() }, crate::clock::LATEST)
                .expect("a transition");
        assert!(matches!(s, State::PendingDisabled { .. }));
        assert!(Settings::for_seed(1).check().is_ok());
    }

    #[test]
    fn enabling_a_never_synced_tenant_is_pending_and_brings_the_sync_service_principal() {
        let (s, fx) = step(State::NeverSynced, enable(), T0).unwrap();
        assert_eq!(s, State::PendingEnabled { until: T0 + Duration::seconds(10) });
        assert_eq!(fx, vec![Effect::CreateSyncServicePrincipal]);
    }

    #[test]
    fn pending_enabled_becomes_enabled_when_the_clock_reaches_the_deadline() {
        let s = State::PendingEnabled { until: T0 };
        assert_eq!(step(s, Event::ClockReached, T0 - Duration::SECOND).unwrap().0, s);
        assert_eq!(step(s, Event::ClockReached, T0).unwrap(), (State::Enabled, vec![]));
    }

    #[test]
    fn disabling_waits_the_whole_window_then_converts_synced_users() {
        let (s, fx) = step(State::Enabled, disable(), T0).unwrap();
        assert_eq!(s, State::PendingDisabled { until: T0 + H48 });
        assert!(fx.is_empty());
        assert_eq!(step(s, Event::ClockReached, T0 + H48 - Duration::SECOND).unwrap(), (s, vec![]));
        assert_eq!(
            step(s, Event::ClockReached, T0 + H48).unwrap(),
            (State::Disabled, vec![Effect::ConvertSyncedUsers])
        );
    }

    #[test]
    fn any_change_while_pending_is_refused_in_both_directions() {
        for s in [State::PendingDisabled { until: T0 + H48 }, State::PendingEnabled { until: T0 + H48 }] {
            assert_eq!(step(s, enable(), T0), Err(Refused));
            assert_eq!(step(s, disable(), T0), Err(Refused));
        }
    }

    #[test]
    fn a_change_after_the_deadline_applies_the_due_transition_first() {
        let s = State::PendingDisabled { until: T0 };
        let (after, fx) = step(s, enable(), T0 + Duration::HOUR).unwrap();
        assert_eq!(after, State::PendingEnabled { until: T0 + Duration::HOUR + Duration::seconds(10) });
        assert_eq!(fx, vec![Effect::ConvertSyncedUsers, Effect::CreateSyncServicePrincipal]);
    }

    #[test]
    fn asking_for_the_current_state_changes_nothing() {
        assert_eq!(step(State::Enabled, enable(), T0).unwrap(), (State::Enabled, vec![]));
        assert_eq!(step(State::Disabled, disable(), T0).unwrap(), (State::Disabled, vec![]));
        assert_eq!(step(State::NeverSynced, disable(), T0).unwrap(), (State::NeverSynced, vec![]));
    }

    #[test]
    fn a_zero_window_moves_straight_through() {
        let (s, fx) = step(State::Enabled, Event::Disable { pending_for: Duration::ZERO }, T0).unwrap();
        assert_eq!((s, fx), (State::Disabled, vec![Effect::ConvertSyncedUsers]));
        let (s, _) = step(State::Disabled, Event::Enable { pending_for: Duration::ZERO }, T0).unwrap();
        assert_eq!(s, State::Enabled);
    }

    #[test]
    fn the_flag_flips_at_once_and_the_status_carries_the_pending_part() {
        let pending = State::PendingDisabled { until: T0 };
        assert_eq!((pending.flag(), pending.msol_status()), (Some(false), "PendingDisabled"));
        assert_eq!((State::NeverSynced.flag(), State::NeverSynced.msol_status()), (None, "Disabled"));
        assert_eq!(State::PendingEnabled { until: T0 }.flag(), Some(true));
    }

    #[test]
    fn the_default_disable_window_is_inside_the_real_24_to_72_hours_and_fixed_per_seed() {
        for seed in 0..200 {
            let s = Settings::for_seed(seed);
            assert!((24 * 3600..72 * 3600).contains(&s.pending_disabled_seconds), "{s:?}");
            assert_eq!(s, Settings::for_seed(seed));
            assert!(!s.strict_pending);
        }
        assert_ne!(Settings::for_seed(1), Settings::for_seed(2));
    }
}
