#!/usr/bin/env bash
# FLAC and MP3 fixtures of the audio decoding tests (`datasets/src/audio/decode_tests.rs`).
#
# The signals are integer sample values computed by a formula (Python's standard library writes
# them as 16/24-bit PCM WAV), then encoded by Debian bookworm's `flac` 1.4.2 (lossless) and
# `lame` 3.100 (MP3); the tests recompute the same formula, so the lossless fixtures are checked
# sample for sample and the MP3 one on the sine's frequency, amplitude and length.
#
#   sine440_22050_s16_mono.flac   22050 Hz, 16-bit, mono, 11025 frames (0.5 s):
#                                 x[n] = round(16384 sin(2 pi 440 n / 22050))
#   two_tone_44100_s24_stereo.flac 44100 Hz, 24-bit, stereo, 4410 frames (0.1 s):
#                                 left[n]  = round(4194304 sin(2 pi 440 n / 44100))  (0.5 full scale)
#                                 right[n] = round(2097152 sin(2 pi 1000 n / 44100)) (0.25 full scale)
#   sine1000_16000_mono_32k.mp3   16000 Hz, mono, 16000 frames (1 s) of
#                                 x[n] = round(16384 sin(2 pi 1000 n / 16000)), CBR 32 kbit/s
#                                 (MagnaTagATune's clips are 16 kHz mono MP3s) with an ID3v2
#                                 tag; a 144-byte frame leaves no room for LAME's Info tag, so
#                                 the file does not record its encoder delay and padding.
#   sine1000_16000_mono_64k.mp3   the same at 64 kbit/s: the first frame is LAME's Info tag
#                                 (encoder delay 576, decoder delay 529, padding).
#
# Usage (Debian/Ubuntu): apt-get install -y flac lame python3
#                        bash tools/gen_audio_io_fixtures.sh   # -> datasets/tests/fixtures/audio/
# The script refuses other flac/lame versions (their encoders' output bytes differ).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/../datasets/tests/fixtures/audio"
mkdir -p "$out"

flac_version="$(flac --version)"
lame_version="$(lame --version | head -n 1)"
[[ "$flac_version" == "flac 1.4.2" ]] || { echo "need flac 1.4.2, have: $flac_version" >&2; exit 1; }
[[ "$lame_version" == "LAME 64bits version 3.100 "* ]] || { echo "need LAME 3.100, have: $lame_version" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 - "$work" <<'PY'
import math, struct, sys, wave

work = sys.argv[1]

def write_wav(path, rate, width, channels):
    """channels: one list of integer samples per channel."""
    frames = bytearray()
    for n in range(len(channels[0])):
        for ch in channels:
            frames += ch[n].to_bytes(width, "little", signed=True)
    with wave.open(path, "wb") as w:
        w.setnchannels(len(channels))
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(bytes(frames))

def sine(amp, freq, rate, frames):
    return [round(amp * math.sin(2 * math.pi * freq * n / rate)) for n in range(frames)]

write_wav(f"{work}/sine440_22050_s16_mono.wav", 22050, 2, [sine(16384, 440, 22050, 11025)])
write_wav(f"{work}/two_tone_44100_s24_stereo.wav", 44100, 3,
          [sine(4194304, 440, 44100, 4410), sine(2097152, 1000, 44100, 4410)])
write_wav(f"{work}/sine1000_16000_mono.wav", 16000, 2, [sine(16384, 1000, 16000, 16000)])
PY

# -8: best compression; --no-padding / --no-seektable: small files; STREAMINFO keeps the total
# sample count and the MD5 of the audio.
for name in sine440_22050_s16_mono two_tone_44100_s24_stereo; do
  flac --silent --force -8 --no-padding --no-seektable -o "$out/$name.flac" "$work/$name.wav"
done

# -b 32 --cbr: the MagnaTagATune clips' bit rate; -m m: mono; --resample 16: keep 16 kHz.
lame --quiet -b 32 --cbr -m m --resample 16 --add-id3v2 --tt "adamp-rs test sine" \
  "$work/sine1000_16000_mono.wav" "$out/sine1000_16000_mono_32k.mp3"
lame --quiet -b 64 --cbr -m m --resample 16 \
  "$work/sine1000_16000_mono.wav" "$out/sine1000_16000_mono_64k.mp3"

ls -l "$out"
sha256sum "$out"/*.flac "$out"/*.mp3
