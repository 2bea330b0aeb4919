//! The rules of tasks and leases (DESIGN.md section 3, points 7 and 11), independent of any
//! database: granting, renewing, releasing and finishing a lease, and whether an event's claim is
//! still the task's current lease.
//!
//! A lease's token is `++fence`, and `fence` only goes up, so a token names one lease for ever.
//! Expiry alone takes nothing away: an expired lease stays valid, and its holder may renew it,
//! until another device takes the task over (see [`renew`]).
//! Backends store a [`TaskRow`] and call these functions inside their write transaction.

use std::time::Duration;

use laituri_protocol::{Lease, Task, TaskClaim, TaskStatus};
use uuid::Uuid;

/// How long a lease lasts without renewal. The sync worker renews on every round.
pub const LEASE_DURATION: Duration = Duration::from_secs(10 * 60);

pub fn lease_duration_ms() -> i64 {
    LEASE_DURATION.as_millis() as i64
}

/// A task as stored: its public shape plus the lease bookkeeping terminals never edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRow {
    pub task: Task,
    /// The device of the current lease (kept after the task is done, for late events).
    pub holder: Option<Uuid>,
    pub lease_token: Option<u64>,
    pub lease_expires_ms: Option<i64>,
    /// The highest token ever handed out for this task.
    pub fence: u64,
}

impl TaskRow {
    pub fn new(task: Task) -> TaskRow {
        TaskRow {
            task,
            holder: None,
            lease_token: None,
            lease_expires_ms: None,
            fence: 0,
        }
    }

    /// The task as devices see it: `leased_to` only while it is leased.
    pub fn public(&self) -> Task {
        let mut t = self.task.clone();
        t.leased_to = match t.status {
            TaskStatus::Leased => self.holder,
            _ => None,
        };
        t
    }

    pub fn lease(&self) -> Option<Lease> {
        Some(Lease {
            task_id: self.task.task_id.clone(),
            token: self.lease_token?,
            expires_at_ms: self.lease_expires_ms?,
        })
    }

    fn held_by(&self, device: Uuid, claim: &TaskClaim) -> bool {
        self.holder == Some(device) && self.lease_token == Some(claim.token)
    }

    fn cleared(&self, status: TaskStatus) -> TaskRow {
        let mut row = self.clone();
        row.task.status = status;
        row.holder = None;
        row.lease_token = None;
        row.lease_expires_ms = None;
        row
    }
}

/// Why a lease was not granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseRefusal {
    /// Another device holds an unexpired lease.
    Taken { by: Uuid, until_ms: i64 },
    /// The task is done or cancelled.
    Finished(TaskStatus),
}

/// What a grant did: the new row, and the device that lost the task to a takeover, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub row: TaskRow,
    pub taken_from: Option<Uuid>,
}

/// Leases `row` to `device` at `now_ms`. The holder asking again keeps its token and gets a new
/// expiry; an expired lease of another device is taken over with a new, higher token.
pub fn grant(row: &TaskRow, device: Uuid, now_ms: i64) -> Result<Grant, LeaseRefusal> {
    let expires = now_ms.saturating_add(lease_duration_ms());
    match row.task.status {
        TaskStatus::Done | TaskStatus::Cancelled => {
            return Err(LeaseRefusal::Finished(row.task.status));
        }
        TaskStatus::Leased if row.holder == Some(device) && row.lease_token.is_some() => {
            let mut next = row.clone();
            next.lease_expires_ms = Some(expires);
            return Ok(Grant {
                row: next,
                taken_from: None,
            });
        }
        TaskStatus::Leased => {
            let until = row.lease_expires_ms.unwrap_or(i64::MIN);
            if let Some(by) = row.holder
                && until > now_ms
            {
                return Err(LeaseRefusal::Taken {
                    by,
                    until_ms: until,
                });
            }
        }
        TaskStatus::Open => {}
    }
    let mut next = row.clone();
    next.fence = row.fence + 1;
    next.task.status = TaskStatus::Leased;
    next.holder = Some(device);
    next.lease_token = Some(next.fence);
    next.lease_expires_ms = Some(expires);
    let taken_from = match row.task.status {
        TaskStatus::Leased => row.holder.filter(|h| *h != device),
        _ => None,
    };
    Ok(Grant {
        row: next,
        taken_from,
    })
}

/// What a renewal answered for one claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Renewal {
    Renewed(Box<TaskRow>),
    /// `reason` is `released`, `taken` or `done`. (Servers before this one also answered
    /// `expired`; terminals still understand it.)
    Lost {
        reason: &'static str,
    },
}

/// Renews `device`'s `claim` at `now_ms`. A lease that expired while nobody took the task over
/// is renewed all the same: its holder was only out of reach (a picker offline in the far
/// aisles), its token is still the task's newest, and taking it away would refuse the progress
/// of every action it recorded meanwhile. Once another device took the task, the claim is lost
/// (`taken`).
pub fn renew(row: Option<&TaskRow>, device: Uuid, claim: &TaskClaim, now_ms: i64) -> Renewal {
    let lost = |reason| Renewal::Lost { reason };
    let Some(row) = row else {
        return lost("released");
    };
    match row.task.status {
        TaskStatus::Done | TaskStatus::Cancelled => return lost("done"),
        TaskStatus::Open => return lost("released"),
        TaskStatus::Leased => {}
    }
    if !row.held_by(device, claim) {
        return lost(if claim.token < row.fence {
            "taken"
        } else {
            "released"
        });
    }
    let mut next = row.clone();
    next.lease_expires_ms = Some(now_ms.saturating_add(lease_duration_ms()));
    Renewal::Renewed(Box::new(next))
}

/// Gives the task back. `None` when the claim is not the current lease: releasing is idempotent
/// and never takes a task from its current holder.
pub fn release(row: &TaskRow, device: Uuid, claim: &TaskClaim) -> Option<TaskRow> {
    (row.task.status == TaskStatus::Leased && row.held_by(device, claim))
        .then(|| row.cleared(TaskStatus::Open))
}

/// Gives the task back for `holder`, a device that went away (a shift lead's decision). `None`
/// when `holder` no longer holds a current lease of it: a lease taken over, given back or
/// finished meanwhile is never touched.
pub fn revoke(row: &TaskRow, holder: Uuid) -> Option<TaskRow> {
    (row.task.status == TaskStatus::Leased && row.holder == Some(holder))
        .then(|| row.cleared(TaskStatus::Open))
}

/// Hands `from`'s lease of a task (current, or kept after the task was done for late events)
/// over to `to` with the same token: the device continues under a new id. `None` when `from`
/// does not hold it.
pub fn hand_over(row: &TaskRow, from: Uuid, to: Uuid) -> Option<TaskRow> {
    (row.holder == Some(from)).then(|| {
        let mut next = row.clone();
        next.holder = Some(to);
        next
    })
}

/// Marks the task done, keeping who finished it and under which token.
pub fn finish(row: &TaskRow) -> TaskRow {
    let mut next = row.clone();
    next.task.status = TaskStatus::Done;
    next.lease_expires_ms = None;
    next
}

/// Whether progress recorded under `claim` by `device` may be applied to `row`. An expired lease
/// nobody took over still counts: the device worked offline and no one else touched the task.
/// `Err` says why not, and what to do next.
pub fn check_claim(row: Option<&TaskRow>, device: Uuid, claim: &TaskClaim) -> Result<(), String> {
    let Some(row) = row else {
        return Err(format!(
            "task {} is not known to the server: the goods moved were booked; ask a shift lead \
             to check the task",
            claim.task_id
        ));
    };
    if row.held_by(device, claim) {
        return Ok(());
    }
    Err(format!(
        "task {} was taken by another device or given back (this lease's token {} is not the \
         task's current one): the goods you moved were booked, but the task's progress was not; \
         stop working on this task and lease new work",
        claim.task_id, claim.token
    ))
}

#[cfg(test)]
mod tests {
    use laituri_protocol::TaskKind;

    use super::*;

    const A: Uuid = Uuid::from_u128(1);
    const B: Uuid = Uuid::from_u128(2);
    const MIN: i64 = 60_000;

    fn open() -> TaskRow {
        TaskRow::new(Task {
            orders: Vec::new(),
            task_id: "T1".into(),
            kind: TaskKind::Putaway,
            merchant_id: "M".into(),
            priority: 0,
            status: TaskStatus::Open,
            container: Some("T-1".into()),
            lines: vec![],
            leased_to: None,
            reason: None,
        })
    }

    fn claim(token: u64) -> TaskClaim {
        TaskClaim {
            task_id: "T1".into(),
            token,
        }
    }

    #[test]
    fn lease_cases() {
        let a = grant(&open(), A, 0).unwrap();
        assert_eq!(a.row.lease_token, Some(1));
        assert_eq!(a.row.public().leased_to, Some(A));
        assert_eq!(a.row.lease_expires_ms, Some(lease_duration_ms()));
        // Another device, before expiry: taken.
        assert_eq!(
            grant(&a.row, B, MIN),
            Err(LeaseRefusal::Taken {
                by: A,
                until_ms: lease_duration_ms()
            })
        );
        // The holder again: same token, new expiry.
        let again = grant(&a.row, A, MIN).unwrap();
        assert_eq!(again.row.lease_token, Some(1));
        assert_eq!(again.row.lease_expires_ms, Some(MIN + lease_duration_ms()));
        // After expiry: takeover with a higher token, and A is named as the loser.
        let b = grant(&a.row, B, lease_duration_ms()).unwrap();
        assert_eq!(b.row.lease_token, Some(2));
        assert_eq!(b.taken_from, Some(A));
        // Done tasks are not leased.
        assert_eq!(
            grant(&finish(&b.row), A, 0),
            Err(LeaseRefusal::Finished(TaskStatus::Done))
        );
    }

    type RenewCase<'a> = (&'a str, Option<&'a TaskRow>, Uuid, u64, i64, &'a str);

    #[test]
    fn renew_cases() {
        let a = grant(&open(), A, 0).unwrap().row;
        let b = grant(&a, B, lease_duration_ms() + 1).unwrap().row;
        let (opened, done) = (open(), finish(&a));
        let reason = |r: Renewal| match r {
            Renewal::Renewed(_) => "renewed",
            Renewal::Lost { reason, .. } => reason,
        };
        let cases: Vec<RenewCase> = vec![
            ("holder in time", Some(&a), A, 1, MIN, "renewed"),
            // Nobody took it meanwhile: the holder was only out of reach.
            (
                "holder after expiry",
                Some(&a),
                A,
                1,
                lease_duration_ms(),
                "renewed",
            ),
            ("old holder after takeover", Some(&b), A, 1, MIN, "taken"),
            (
                "new holder",
                Some(&b),
                B,
                2,
                lease_duration_ms() + MIN,
                "renewed",
            ),
            ("released", Some(&opened), A, 1, 0, "released"),
            ("done", Some(&done), A, 1, 0, "done"),
            ("unknown task", None, A, 1, 0, "released"),
        ];
        for (name, row, dev, token, now, expect) in cases {
            assert_eq!(
                reason(renew(row, dev, &claim(token), now)),
                expect,
                "{name}"
            );
        }
    }

    #[test]
    fn release_and_claims() {
        let a = grant(&open(), A, 0).unwrap().row;
        assert_eq!(release(&a, B, &claim(1)), None);
        assert_eq!(release(&a, A, &claim(2)), None);
        let released = release(&a, A, &claim(1)).unwrap();
        assert_eq!(released.task.status, TaskStatus::Open);
        assert_eq!(released.fence, 1);
        assert!(check_claim(Some(&a), A, &claim(1)).is_ok());
        assert!(check_claim(Some(&finish(&a)), A, &claim(1)).is_ok());
        assert!(check_claim(Some(&a), B, &claim(1)).is_err());
        assert!(check_claim(Some(&released), A, &claim(1)).is_err());
        assert!(check_claim(None, A, &claim(1)).is_err());
        // Leasing again after release goes past every earlier token.
        assert_eq!(grant(&released, B, 0).unwrap().row.lease_token, Some(2));
    }
}
