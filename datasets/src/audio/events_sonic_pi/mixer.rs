//! Mixing recorded samples into one weakly labelled clip: which events a clip holds
//! ([`plan_clip`]) and the clip's audio ([`render_clip`]). Pure functions of the samples, the
//! settings and an RNG, so they are tested on synthetic in-memory samples.
//!
//! A clip of [`MixSettings::clip_frames`] holds `k` events, `P(k) ∝ 1/k` for `k` in
//! `1..=max_events` (mean 1.64 for 3: single-event clips are the most common), of distinct
//! categories drawn uniformly among those whose pool is not empty, each a segment of one
//! recording of its category's pool:
//! - length: uniform in `[min_event_frames, max_event_frames]`, or the whole recording when it
//!   is shorter;
//! - segment of a longer recording: up to [`SEGMENT_TRIES`] uniform offsets, the first whose RMS
//!   is at least [`MIN_SEGMENT_RMS`] times the recording's (else the loudest tried), so a segment
//!   is not a quiet stretch of a sustained sound;
//! - onset: uniform among those where the event lies inside the clip and overlaps the core
//!   `[clip - chunk, chunk]` by at least `min(length, min_overlap_frames)`: every window of
//!   `chunk_frames` frames of the clip (the training chunk, `DCASE_CHUNK`) contains the core, so a
//!   clip's weak labels hold for every chunk the loader cuts from it;
//! - level: the segment scaled to an RMS of `event_dbfs` (uniform in the range, dB re full
//!   scale), with raised-cosine fades of `fade_frames` where the segment cuts into a recording.
//!
//! The events are added over Gaussian noise of RMS `noise_dbfs`; a clip whose peak exceeds
//! [`MAX_PEAK`] is scaled down as a whole to that peak (no clipping in the 16-bit WAV).

use rand::Rng;
use rand_distr::{Distribution, Normal};

use crate::error::{DatasetError, Result};

/// Segment offsets tried per event (see the module documentation).
pub const SEGMENT_TRIES: usize = 8;
/// A segment is accepted when its RMS is at least this fraction of its recording's RMS.
pub const MIN_SEGMENT_RMS: f32 = 0.3;
/// The largest absolute sample value of a rendered clip.
pub const MAX_PEAK: f32 = 0.99;

/// One recording, decoded, resampled to the clips' rate and trimmed.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The file name inside the package (`ambi_choir.flac`).
    pub name: String,
    /// The category (class index).
    pub class: usize,
    /// Mono samples at [`MixSettings::rate`].
    pub audio: Vec<f32>,
}

/// How clips are mixed (all lengths in frames at `rate`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MixSettings {
    /// Sample rate of the clips in Hz.
    pub rate: u32,
    /// Clip length.
    pub clip_frames: usize,
    /// The loader's chunk length (the core `[clip - chunk, chunk]` is in every chunk).
    pub chunk_frames: usize,
    /// Shortest event cut from a longer recording.
    pub min_event_frames: usize,
    /// Longest event.
    pub max_event_frames: usize,
    /// Least overlap of an event with the core (or the whole event when it is shorter).
    pub min_overlap_frames: usize,
    /// Most events in a clip (at least one).
    pub max_events: usize,
    /// Range of an event's RMS level in dB re full scale.
    pub event_dbfs: (f32, f32),
    /// RMS level of the noise floor in dB re full scale.
    pub noise_dbfs: f32,
    /// Fade length where a segment cuts into a recording.
    pub fade_frames: usize,
}

impl MixSettings {
    /// The core `[start, end)` every chunk contains.
    pub fn core(&self) -> (usize, usize) {
        let end = self.chunk_frames.min(self.clip_frames);
        (self.clip_frames - end, end)
    }

    /// Checks the settings can always be met; the error names the setting.
    pub fn validate(&self) -> Result<()> {
        let bad = |name: &str, reason: String| {
            Err(DatasetError::Config {
                name: format!("events_sonic_pi.{name}"),
                reason,
            })
        };
        let (start, end) = self.core();
        if self.rate == 0 || self.clip_frames == 0 {
            return bad(
                "clip_frames",
                "the rate and the clip length must be > 0".into(),
            );
        }
        if start + self.min_overlap_frames > end {
            return bad(
                "chunk_frames",
                format!(
                    "the core [{start}, {end}) of a {}-frame clip and {}-frame chunks is shorter \
                     than min_overlap_frames = {}",
                    self.clip_frames, self.chunk_frames, self.min_overlap_frames
                ),
            );
        }
        if self.min_event_frames == 0
            || self.min_event_frames > self.max_event_frames
            || self.max_event_frames > self.clip_frames
        {
            return bad(
                "max_event_frames",
                format!(
                    "need 0 < min_event_frames ({}) <= max_event_frames ({}) <= clip_frames ({})",
                    self.min_event_frames, self.max_event_frames, self.clip_frames
                ),
            );
        }
        if self.max_events == 0 {
            return bad("max_events", "a clip holds at least one event".into());
        }
        if !(self.event_dbfs.0 <= self.event_dbfs.1 && self.event_dbfs.1 <= 0.0) {
            return bad(
                "event_dbfs",
                format!("need lo <= hi <= 0, got {:?}", self.event_dbfs),
            );
        }
        Ok(())
    }
}

/// One event of a clip.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Event {
    /// The category (class index).
    pub class: usize,
    /// Index of the recording in the samples.
    pub sample: usize,
    /// First frame of the segment in the recording.
    pub offset: usize,
    /// Segment length.
    pub frames: usize,
    /// First frame of the event in the clip.
    pub onset: usize,
    /// RMS level of the event in dB re full scale (before a clip-wide peak scaling).
    pub level_dbfs: f32,
}

/// RMS of a slice (0 for an empty one).
pub fn rms(x: &[f32]) -> f32 {
    if x.is_empty() {
        return 0.0;
    }
    (x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / x.len() as f64).sqrt() as f32
}

fn db_to_amp(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

/// The events of one clip; `pools[c]` holds the indices (into `samples`) of the recordings
/// category `c` may use. Settings must be [`MixSettings::validate`]d; at least one pool must
/// be non-empty.
pub fn plan_clip<R: Rng>(
    rng: &mut R,
    pools: &[Vec<usize>],
    samples: &[Sample],
    s: &MixSettings,
) -> Vec<Event> {
    let mut open: Vec<usize> = (0..pools.len()).filter(|&c| !pools[c].is_empty()).collect();
    let n = event_count(rng, s.max_events.min(open.len()));
    let (core_start, core_end) = s.core();
    let mut events = Vec::with_capacity(n);
    for _ in 0..n {
        let class = open.swap_remove(rng.random_range(0..open.len()));
        let pool = &pools[class];
        let sample = pool[rng.random_range(0..pool.len())];
        let audio = &samples[sample].audio;
        let target = rng.random_range(s.min_event_frames..=s.max_event_frames);
        let frames = target.min(audio.len());
        let offset = pick_segment(rng, audio, frames);
        let m = frames.min(s.min_overlap_frames);
        let lo = (core_start + m).saturating_sub(frames);
        let hi = (s.clip_frames - frames).min(core_end - m);
        let onset = rng.random_range(lo..=hi);
        let level_dbfs = rng.random_range(s.event_dbfs.0..=s.event_dbfs.1);
        events.push(Event {
            class,
            sample,
            offset,
            frames,
            onset,
            level_dbfs,
        });
    }
    events.sort_by_key(|e| (e.onset, e.class));
    events
}

/// A number of events `k` in `1..=max`, `P(k) ∝ 1/k`.
pub fn event_count<R: Rng>(rng: &mut R, max: usize) -> usize {
    let total: f64 = (1..=max).map(|k| 1.0 / k as f64).sum();
    let mut u = rng.random_range(0.0..total);
    for k in 1..max {
        u -= 1.0 / k as f64;
        if u < 0.0 {
            return k;
        }
    }
    max
}

/// The offset of a `frames`-long segment of `audio` (see the module documentation).
fn pick_segment<R: Rng>(rng: &mut R, audio: &[f32], frames: usize) -> usize {
    if frames >= audio.len() {
        return 0;
    }
    let floor = MIN_SEGMENT_RMS * rms(audio);
    let mut best = (0usize, -1.0f32);
    for _ in 0..SEGMENT_TRIES {
        let offset = rng.random_range(0..=audio.len() - frames);
        let r = rms(&audio[offset..offset + frames]);
        if r >= floor {
            return offset;
        }
        if r > best.1 {
            best = (offset, r);
        }
    }
    best.0
}

/// The audio of a clip holding `events` (see the module documentation).
pub fn render_clip<R: Rng>(
    rng: &mut R,
    events: &[Event],
    samples: &[Sample],
    s: &MixSettings,
) -> Vec<f32> {
    let noise = Normal::new(0.0f32, db_to_amp(s.noise_dbfs)).expect("a finite noise level");
    let mut clip: Vec<f32> = (0..s.clip_frames).map(|_| noise.sample(rng)).collect();
    for e in events {
        let audio = &samples[e.sample].audio;
        let seg = &audio[e.offset..e.offset + e.frames];
        let r = rms(seg);
        if r == 0.0 {
            continue;
        }
        let gain = db_to_amp(e.level_dbfs) / r;
        let fade_in = e.offset > 0;
        let fade_out = e.offset + e.frames < audio.len();
        let fade = s.fade_frames.min(e.frames / 2);
        for (i, &v) in seg.iter().enumerate() {
            let mut w = 1.0;
            if fade > 0 && fade_in && i < fade {
                w *= ramp(i, fade);
            }
            if fade > 0 && fade_out && e.frames - 1 - i < fade {
                w *= ramp(e.frames - 1 - i, fade);
            }
            clip[e.onset + i] += gain * w * v;
        }
    }
    let peak = clip.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if peak > MAX_PEAK {
        let k = MAX_PEAK / peak;
        clip.iter_mut().for_each(|v| *v *= k);
    }
    clip
}

/// Raised-cosine fade weight of frame `i` of a `len`-frame fade (0 at `i = 0`, near 1 at the end).
fn ramp(i: usize, len: usize) -> f32 {
    0.5 - 0.5 * (std::f32::consts::PI * i as f32 / len as f32).cos()
}

/// Frame length (10 ms at 16 kHz) of [`trim_silence`]'s envelope.
pub const TRIM_FRAME: usize = 160;
/// [`trim_silence`] cuts the ends quieter than this many dB below the loudest frame.
pub const TRIM_DB: f32 = 50.0;

/// `audio` without its leading and trailing frames ([`TRIM_FRAME`] samples each) whose RMS is
/// more than [`TRIM_DB`] below the loudest frame's; `None` when the audio is all zeros.
pub fn trim_silence(audio: &[f32]) -> Option<Vec<f32>> {
    let frame_rms: Vec<f32> = audio.chunks(TRIM_FRAME).map(rms).collect();
    let loudest = frame_rms.iter().fold(0.0f32, |m, &v| m.max(v));
    if loudest == 0.0 {
        return None;
    }
    let floor = loudest * db_to_amp(-TRIM_DB);
    let first = frame_rms.iter().position(|&r| r >= floor)?;
    let last = frame_rms.iter().rposition(|&r| r >= floor)?;
    let end = ((last + 1) * TRIM_FRAME).min(audio.len());
    Some(audio[first * TRIM_FRAME..end].to_vec())
}
