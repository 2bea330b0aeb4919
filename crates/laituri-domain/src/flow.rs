//! What every floor flow is: a pure state machine `(state, input, today) -> step`.
//!
//! A flow never mutates its state and never does I/O. [`Flow::step`] returns the next state, the
//! facts to record durably and the feedback to give; the terminal writes the facts in one
//! transaction and adopts the next state only after the commit returned `Ok` (once, for every
//! flow, in the terminal's controller seam). So a failed write leaves every flow exactly where it
//! was, and a flow's rules are testable with case tables and nothing else.

use crate::calendar::Date;

/// The tone of an answer: the colour on screen and the sound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Ok,
    Warning,
    Error,
    /// A job finished (a receipt closed, a tote emptied).
    Done,
}

/// What to tell the operator; the terminal renders `message` in the operator's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feedback<M> {
    pub tone: Tone,
    pub message: M,
}

impl<M> Feedback<M> {
    pub fn ok(message: M) -> Self {
        Feedback {
            tone: Tone::Ok,
            message,
        }
    }
    pub fn warning(message: M) -> Self {
        Feedback {
            tone: Tone::Warning,
            message,
        }
    }
    pub fn error(message: M) -> Self {
        Feedback {
            tone: Tone::Error,
            message,
        }
    }
    pub fn done(message: M) -> Self {
        Feedback {
            tone: Tone::Done,
            message,
        }
    }
}

/// The result of one input: the next state, the facts to record (in order, in one
/// transaction) and the feedback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step<S, F, M> {
    pub next: S,
    pub facts: Vec<F>,
    pub feedback: Feedback<M>,
}

/// A floor flow's state machine.
pub trait Flow: Clone {
    type Input;
    type Fact;
    type Message;

    /// Applies one input. Never mutates `self`.
    fn step(&self, input: Self::Input, today: Date) -> Step<Self, Self::Fact, Self::Message>;

    /// True when the job is over and the flow takes no more input.
    fn is_finished(&self) -> bool;
}
