//! Sounds that answer every scan: ok, warning, error, done.
//!
//! The four WAVs from `assets/sounds/` are compiled in and decoded once at start-up, so playing
//! one is a cheap clone handed to the audio mixer: it starts within a frame of the commit. A
//! terminal without an audio device (or with a broken one) is silent, says so in one log line,
//! and never fails because of it.

use std::io::Cursor;

use rodio::buffer::SamplesBuffer;
use rodio::{Decoder, DeviceSinkBuilder, MixerDeviceSink, Source};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sound {
    Ok,
    Warning,
    Error,
    Done,
}

impl Sound {
    pub const ALL: [Sound; 4] = [Sound::Ok, Sound::Warning, Sound::Error, Sound::Done];

    fn wav(self) -> &'static [u8] {
        match self {
            Sound::Ok => include_bytes!("../assets/sounds/ok.wav"),
            Sound::Warning => include_bytes!("../assets/sounds/warning.wav"),
            Sound::Error => include_bytes!("../assets/sounds/error.wav"),
            Sound::Done => include_bytes!("../assets/sounds/done.wav"),
        }
    }
}

/// Decodes a compiled-in sound. The assets are ours, so failure is a build defect; it still
/// degrades to silence rather than a panic.
pub fn decode(sound: Sound) -> Option<SamplesBuffer> {
    let decoder = Decoder::new_wav(Cursor::new(sound.wav())).ok()?;
    let channels = decoder.channels();
    let rate = decoder.sample_rate();
    let samples: Vec<f32> = decoder.collect();
    Some(SamplesBuffer::new(channels, rate, samples))
}

/// Plays the feedback sounds, or nothing when there is no audio device.
pub struct Speaker {
    sink: Option<MixerDeviceSink>,
    sounds: Vec<(Sound, SamplesBuffer)>,
}

impl Speaker {
    /// Opens the default audio device. Never fails: without a device the speaker is silent.
    pub fn open() -> Speaker {
        let sink = match DeviceSinkBuilder::open_default_sink() {
            Ok(mut sink) => {
                sink.log_on_drop(false);
                Some(sink)
            }
            Err(e) => {
                tracing::warn!(
                    "no audio device ({e}): feedback sounds are off, colours still show"
                );
                None
            }
        };
        Speaker::with_sink(sink)
    }

    /// A speaker that never makes a sound (tests, benchmarks, `--mute`).
    pub fn silent() -> Speaker {
        Speaker::with_sink(None)
    }

    fn with_sink(sink: Option<MixerDeviceSink>) -> Speaker {
        let sounds = if sink.is_some() {
            Sound::ALL
                .iter()
                .filter_map(|&s| decode(s).map(|b| (s, b)))
                .collect()
        } else {
            Vec::new()
        };
        Speaker { sink, sounds }
    }

    pub fn is_silent(&self) -> bool {
        self.sink.is_none()
    }

    pub fn play(&self, sound: Sound) {
        let Some(sink) = &self.sink else { return };
        if let Some((_, buffer)) = self.sounds.iter().find(|(s, _)| *s == sound) {
            sink.mixer().add(buffer.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sound_decodes_and_they_differ() {
        let lengths: Vec<_> = Sound::ALL
            .iter()
            .map(|&s| decode(s).expect("asset decodes").count())
            .collect();
        assert!(lengths.iter().all(|&n| n > 1000), "{lengths:?}");
        let mut unique = lengths.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(
            unique.len(),
            4,
            "each sound has its own length: {lengths:?}"
        );
    }

    #[test]
    fn a_silent_speaker_plays_nothing_and_does_not_fail() {
        let s = Speaker::silent();
        assert!(s.is_silent());
        for sound in Sound::ALL {
            s.play(sound);
        }
    }
}
