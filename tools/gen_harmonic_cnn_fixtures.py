#!/usr/bin/env python3
"""Reference outputs of the Harmonic CNN (Won et al., ICASSP 2020) for adamp-models
(`models/tests/harmonic_cnn.rs`) and adamp-task-audio (`tasks/audio/tests/harmonic_cnn_end_to_end.rs`).

The network is minzwon/data-driven-harmonic-filters `training/modules.py` and `training/model.py`
(HarmonicSTFT, ResNet_keyword, Conv3_2d, Conv3_2d_resmp, Model; ResNet_mtat and ResNet_dcase,
identical besides their pooling and class count, as one class `ResNet_tagging`), copied here with ports so
that torch alone runs it (torchaudio and librosa are not in the pinned stack):

* `torchaudio.transforms.Spectrogram(n_fft, win_length=None, hop_length=None, pad=0,
  window_fn=torch.hann_window, power=2, normalized=False)`: `torch.stft(x, n_fft,
  hop_length=win_length // 2, win_length=n_fft, window=hann_window(n_fft) (periodic),
  center=True, pad_mode="reflect", normalized=False, onesided=True, return_complex=True)`,
  then `abs() ** 2` (torchaudio.functional.spectrogram); the window is a buffer `spec.window`
  as in torchaudio;
* `torchaudio.transforms.AmplitudeToDB()` (stype "power", top_db None):
  `10 * log10(clamp(x, min=1e-10)) - 10 * log10(max(1e-10, 1.0))`;
* `librosa.note_to_midi` / `librosa.hz_to_note` for the two calls of `initialize_filterbank`:
  `note_to_midi("C1") = 12 * (1 + 1) + 0 = 24`; `hz_to_note(hz)` names the note of
  `round(hz_to_midi(hz))` (numpy's round half to even), `hz_to_midi(hz) = 12 * (log2(hz) -
  log2(440)) + 69`, so `note_to_midi(hz_to_note(hz)) = round(hz_to_midi(hz))`.

The reference's `HarmonicSTFT.forward(waveform)` is split here into the spectrogram and
`from_spectrogram(spec)` (the same operations in the same order), because the Rust network takes
the power spectrogram and the STFT lives in adamp-task-audio.

Written (models/tests/fixtures/harmonic_cnn/):

* `harmonic_cnn.safetensors`:
  - `waveform` [2, 16384]: fixed-seed noise plus sines (16 kHz);
  - `spec` [2, 257, 64]: the power spectrogram (n_fft 513, hop 256);
  - `centre_hz` [768]: `HarmonicSTFT.f0` (float32) for 16 kHz, 6 harmonics, semitone scale 2;
  - `frontend.out` [2, 6, 128, 16]: `HarmonicSTFT` (learn_bw "only_Q") at bw_Q = 0.8, the first
    16 of the 64 frames; `frontend.loss` and `frontend.grad.bw_Q` for loss = mean(out ** 2)
    over all frames; the same two for bw_Q = 1.3 under `frontend_q13.*`;
  - `net.param.<name>` / `net.buffer.<name>`: every tensor of `Model(conv_channels=8,
    n_fft=513, learn_bw="only_Q", dataset="keyword")` after torch's default init (seed 0),
    BatchNorm gains and biases perturbed, running statistics from one train-mode pass in
    cumulative-average mode, and bw_Q = 0.8;
  - `net.eval.logits` [2, 35], `net.eval.loss` and `net.eval.grad.<name>` for every parameter:
    eval mode, cross entropy against `net.labels`;
  - `net.train.logits`, `net.train.loss`, `net.train.grad.<name>` and
    `net.train.buffer.<name>`: training mode with dropout p = 0 (the only way to compare a
    training-mode pass without torch's dropout stream): batch statistics and the running
    statistics after the pass;
  - `mtat.*`, `dcase.*`: `Model(conv_channels=4, dataset="mtat" | "dcase")` prepared the same
    way on random power spectrograms of 33 bins (`spec` [2, 33, 576] and [2, 33, 300]: res7
    leaves 2 frames, so the global max pool over time runs), evaluation mode: `probs` (the
    sigmoid outputs), `targets`, `loss` (`BCELoss`, as the reference solver) and `grad.<name>`;
* `harmonic_cnn.json`: the configuration, the state_dict names in order (with shapes) and the
  scalars above.

Usage (see tools/README.md):

    .venv/bin/python tools/gen_harmonic_cnn_fixtures.py
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from safetensors_writer import write_safetensors

TORCH_VERSION = "2.15.0"
NUMPY_VERSION = "2.4.6"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "models" / "tests" / "fixtures" / "harmonic_cnn"
COMMAND = "python tools/gen_harmonic_cnn_fixtures.py"
MAX_TOTAL_BYTES = 1_000_000

SAMPLE_RATE = 16000
N_FFT = 513
N_HARMONIC = 6
SEMITONE_SCALE = 2
CONV_CHANNELS = 8
SAMPLES = 16384
BW_Q = 0.8
BW_Q_SECOND = 1.3
LABELS = [3, 17]
# The front end's output is stored for the first frames only (its loss and gradient cover all).
FRONTEND_FRAMES = 16
# The tagging variants run on random power spectrograms of 33 bins (n_fft 64; the filterbank
# takes any bin count), long enough that res7 leaves 2 frames for the global max pool.
TAGGING_CASES = {"mtat": (2, 576), "dcase": (2, 300)}
TAGGING_BINS = 33
TAGGING_CHANNELS = 4


def check_versions() -> None:
    torch_version = torch.__version__.split("+")[0]
    if torch_version != TORCH_VERSION or np.__version__ != NUMPY_VERSION:
        sys.exit(
            f"gen_harmonic_cnn_fixtures.py needs torch=={TORCH_VERSION} and numpy=={NUMPY_VERSION}, "
            f"found torch {torch.__version__} and numpy {np.__version__}; "
            "install tools/requirements-fixtures.txt (see tools/README.md)"
        )


# --- librosa ports (librosa/core/convert.py) ---
PITCH_MAP = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
NOTE_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]


def librosa_hz_to_midi(hz):
    return 12 * (np.log2(np.asanyarray(hz)) - np.log2(440.0)) + 69


def librosa_midi_to_note(midi):
    note_num = int(np.round(midi))
    return f"{NOTE_NAMES[note_num % 12]}{note_num // 12 - 1}"


def librosa_note_to_midi(note):
    pitch = note[0].upper()
    rest = note[1:]
    acc = 0
    while rest and rest[0] in "#♯b!♭":
        acc += 1 if rest[0] in "#♯" else -1
        rest = rest[1:]
    octave = int(rest)
    return 12 * (octave + 1) + PITCH_MAP[pitch] + acc


def librosa_hz_to_note(hz):
    return librosa_midi_to_note(librosa_hz_to_midi(hz))


# --- training/modules.py (with the ports above) ---
def midi_to_hz(midi):
    return 440.0 * (2.0 ** ((midi - 69.0) / 12.0))


def initialize_filterbank(sample_rate, n_harmonic, semitone_scale):
    low_midi = librosa_note_to_midi("C1")
    high_note = librosa_hz_to_note(sample_rate / (2 * n_harmonic))
    high_midi = librosa_note_to_midi(high_note)
    level = (high_midi - low_midi) * semitone_scale
    midi = np.linspace(low_midi, high_midi, level + 1)
    hz = midi_to_hz(midi[:-1])
    harmonic_hz = []
    for i in range(n_harmonic):
        harmonic_hz = np.concatenate((harmonic_hz, hz * (i + 1)))
    return harmonic_hz, level


class Spectrogram(nn.Module):
    """torchaudio.transforms.Spectrogram with the reference's arguments."""

    def __init__(self, n_fft, power=2):
        super().__init__()
        self.n_fft = n_fft
        self.win_length = n_fft
        self.hop_length = self.win_length // 2
        self.power = power
        self.register_buffer("window", torch.hann_window(self.win_length))

    def forward(self, waveform):
        spec = torch.stft(
            waveform,
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            win_length=self.win_length,
            window=self.window,
            center=True,
            pad_mode="reflect",
            normalized=False,
            onesided=True,
            return_complex=True,
        )
        return spec.abs().pow(self.power)


def amplitude_to_db(x):
    """torchaudio.transforms.AmplitudeToDB() (stype power, top_db None)."""
    amin, ref = 1e-10, 1.0
    x_db = 10.0 * torch.log10(torch.clamp(x, min=amin))
    x_db -= 10.0 * math.log10(max(amin, ref))
    return x_db


class HarmonicSTFT(nn.Module):
    def __init__(self, sample_rate=16000, n_fft=513, n_harmonic=6, semitone_scale=2, bw_Q=1.0,
                 learn_bw=None):
        super().__init__()
        self.sample_rate = sample_rate
        self.n_harmonic = n_harmonic
        self.bw_alpha = 0.1079
        self.bw_beta = 24.7
        self.spec = Spectrogram(n_fft=n_fft, power=2)
        harmonic_hz, self.level = initialize_filterbank(sample_rate, n_harmonic, semitone_scale)
        self.f0 = torch.tensor(harmonic_hz.astype("float32"))
        if learn_bw == "only_Q":
            self.bw_Q = nn.Parameter(torch.tensor(np.array([bw_Q]).astype("float32")))
        elif learn_bw == "fix":
            self.bw_Q = torch.tensor(np.array([bw_Q]).astype("float32"))

    def get_harmonic_fb(self):
        bw = (self.bw_alpha * self.f0 + self.bw_beta) / self.bw_Q
        bw = bw.unsqueeze(0)
        f0 = self.f0.unsqueeze(0)
        fft_bins = self.fft_bins.unsqueeze(1)
        up_slope = torch.matmul(fft_bins, (2 / bw)) + 1 - (2 * f0 / bw)
        down_slope = torch.matmul(fft_bins, (-2 / bw)) + 1 + (2 * f0 / bw)
        fb = torch.max(self.zero, torch.min(down_slope, up_slope))
        return fb

    def to_device(self, device, n_bins):
        self.f0 = self.f0.to(device)
        self.fft_bins = torch.linspace(0, self.sample_rate // 2, n_bins)
        self.zero = torch.zeros(1)

    def from_spectrogram(self, spectrogram):
        self.to_device(spectrogram.device, spectrogram.size(1))
        harmonic_fb = self.get_harmonic_fb()
        harmonic_spec = torch.matmul(spectrogram.transpose(1, 2), harmonic_fb).transpose(1, 2)
        b, c, l = harmonic_spec.size()
        harmonic_spec = harmonic_spec.view(b, self.n_harmonic, self.level, l)
        return amplitude_to_db(harmonic_spec)

    def forward(self, waveform):
        return self.from_spectrogram(self.spec(waveform))


class Conv3_2d(nn.Module):
    def __init__(self, input_channels, output_channels, pooling=2):
        super().__init__()
        self.conv = nn.Conv2d(input_channels, output_channels, 3, padding=1)
        self.bn = nn.BatchNorm2d(output_channels)
        self.relu = nn.ReLU()
        self.mp = nn.MaxPool2d(pooling)

    def forward(self, x):
        return self.mp(self.relu(self.bn(self.conv(x))))


class Conv3_2d_resmp(nn.Module):
    def __init__(self, input_channels, output_channels, pooling=2):
        super().__init__()
        self.conv_1 = nn.Conv2d(input_channels, output_channels, 3, padding=1)
        self.bn_1 = nn.BatchNorm2d(output_channels)
        self.conv_2 = nn.Conv2d(output_channels, output_channels, 3, padding=1)
        self.bn_2 = nn.BatchNorm2d(output_channels)
        self.relu = nn.ReLU()
        self.mp = nn.MaxPool2d(pooling)

    def forward(self, x):
        out = self.bn_2(self.conv_2(self.relu(self.bn_1(self.conv_1(x)))))
        out = x + out
        return self.mp(self.relu(out))


class ResNet_keyword(nn.Module):
    def __init__(self, input_channels, conv_channels):
        super().__init__()
        self.num_class = 35
        self.res1 = Conv3_2d(input_channels, conv_channels, 2)
        self.res2 = Conv3_2d_resmp(conv_channels, conv_channels, 2)
        self.res3 = Conv3_2d_resmp(conv_channels, conv_channels, 2)
        self.res4 = Conv3_2d_resmp(conv_channels, conv_channels, 2)
        self.res5 = Conv3_2d(conv_channels, conv_channels * 2, 2)
        self.res6 = Conv3_2d_resmp(conv_channels * 2, conv_channels * 2, 2)
        self.res7 = Conv3_2d_resmp(conv_channels * 2, conv_channels * 2, (2, 1))
        self.fc_1 = nn.Linear(conv_channels * 2, conv_channels * 2)
        self.bn = nn.BatchNorm1d(conv_channels * 2)
        self.fc_2 = nn.Linear(conv_channels * 2, self.num_class)
        self.dropout = nn.Dropout(0.5)
        self.relu = nn.ReLU()

    def forward(self, x):
        x = self.res1(x)
        x = self.res2(x)
        x = self.res3(x)
        x = self.res4(x)
        x = self.res5(x)
        x = self.res6(x)
        x = self.res7(x)
        x = x.squeeze(2)
        if x.size(-1) != 1:
            x = nn.MaxPool1d(x.size(-1))(x)
        x = x.squeeze(2)
        x = self.fc_1(x)
        x = self.bn(x)
        x = self.relu(x)
        x = self.dropout(x)
        x = self.fc_2(x)
        return x


class ResNet_tagging(nn.Module):
    """ResNet_mtat (pools (2, 3) in res6 and res7, 50 tags) and ResNet_dcase (pools 2, 17
    events): identical code in the reference besides these two numbers."""

    def __init__(self, input_channels, conv_channels, num_class, last_pool):
        super().__init__()
        self.num_class = num_class
        self.res1 = Conv3_2d(input_channels, conv_channels, 2)
        self.res2 = Conv3_2d_resmp(conv_channels, conv_channels, 2)
        self.res3 = Conv3_2d_resmp(conv_channels, conv_channels, 2)
        self.res4 = Conv3_2d_resmp(conv_channels, conv_channels, 2)
        self.res5 = Conv3_2d(conv_channels, conv_channels * 2, 2)
        self.res6 = Conv3_2d_resmp(conv_channels * 2, conv_channels * 2, last_pool)
        self.res7 = Conv3_2d_resmp(conv_channels * 2, conv_channels * 2, last_pool)
        self.fc_1 = nn.Linear(conv_channels * 2, conv_channels * 2)
        self.bn = nn.BatchNorm1d(conv_channels * 2)
        self.fc_2 = nn.Linear(conv_channels * 2, self.num_class)
        self.activation = nn.Sigmoid()
        self.dropout = nn.Dropout(0.5)
        self.relu = nn.ReLU()

    def forward(self, x):
        x = self.res1(x)
        x = self.res2(x)
        x = self.res3(x)
        x = self.res4(x)
        x = self.res5(x)
        x = self.res6(x)
        x = self.res7(x)
        x = x.squeeze(2)
        if x.size(-1) != 1:
            x = nn.MaxPool1d(x.size(-1))(x)
        x = x.squeeze(2)
        x = self.fc_1(x)
        x = self.bn(x)
        x = self.relu(x)
        x = self.dropout(x)
        x = self.fc_2(x)
        x = self.activation(x)
        return x


class Model(nn.Module):
    def __init__(self, conv_channels=128, sample_rate=16000, n_fft=513, n_harmonic=6,
                 semitone_scale=2, learn_bw=None, dataset="keyword"):
        super().__init__()
        self.hstft = HarmonicSTFT(sample_rate=sample_rate, n_fft=n_fft, n_harmonic=n_harmonic,
                                  semitone_scale=semitone_scale, learn_bw=learn_bw)
        self.hstft_bn = nn.BatchNorm2d(n_harmonic)
        if dataset == "mtat":
            self.conv_2d = ResNet_tagging(n_harmonic, conv_channels, 50, (2, 3))
        elif dataset == "dcase":
            self.conv_2d = ResNet_tagging(n_harmonic, conv_channels, 17, 2)
        else:
            self.conv_2d = ResNet_keyword(input_channels=n_harmonic, conv_channels=conv_channels)

    def forward_spectrogram(self, spec):
        return self.conv_2d(self.hstft_bn(self.hstft.from_spectrogram(spec)))

    def forward(self, x):
        return self.conv_2d(self.hstft_bn(self.hstft(x)))


def make_waveform():
    g = torch.Generator().manual_seed(1234)
    t = torch.arange(SAMPLES, dtype=torch.float64) / SAMPLE_RATE
    noise = 0.05 * torch.randn(2, SAMPLES, generator=g, dtype=torch.float64)
    a = 0.5 * torch.sin(2 * math.pi * 220.0 * t) + 0.25 * torch.sin(2 * math.pi * 1318.5 * t)
    b = 0.4 * torch.sin(2 * math.pi * 97.0 * t) * (1 + 0.5 * torch.sin(2 * math.pi * 3.0 * t))
    b = b + 0.2 * torch.sin(2 * math.pi * (500.0 + 2000.0 * t) * t)
    return (torch.stack([a, b]) + noise).float()


def frontend_case(spec, bw_q):
    h = HarmonicSTFT(sample_rate=SAMPLE_RATE, n_fft=N_FFT, n_harmonic=N_HARMONIC,
                     semitone_scale=SEMITONE_SCALE, bw_Q=bw_q, learn_bw="only_Q")
    out = h.from_spectrogram(spec)
    loss = (out ** 2).mean()
    loss.backward()
    return h, out.detach(), loss.detach(), h.bw_Q.grad.detach().clone()


def build_network(waveform, dataset="keyword", conv_channels=CONV_CHANNELS, spec=None):
    torch.manual_seed(0)
    model = Model(conv_channels=conv_channels, sample_rate=SAMPLE_RATE, n_fft=N_FFT,
                  n_harmonic=N_HARMONIC, semitone_scale=SEMITONE_SCALE, learn_bw="only_Q",
                  dataset=dataset)
    g = torch.Generator().manual_seed(7)
    with torch.no_grad():
        model.hstft.bw_Q.fill_(BW_Q)
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.weight.copy_(1.0 + 0.2 * torch.randn(m.weight.shape, generator=g))
                m.bias.copy_(0.2 * torch.randn(m.bias.shape, generator=g))
                m.momentum = None  # cumulative average: running stats = this pass's statistics
        model.train()
        if spec is None:
            model(waveform)
        else:
            model.forward_spectrogram(spec)
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.momentum = 0.1
                m.num_batches_tracked.zero_()
    return model


def grads_of(model, loss):
    model.zero_grad()
    loss.backward()
    return {n: p.grad.detach().clone() for n, p in model.named_parameters()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    check_versions()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    waveform = make_waveform()
    spec = Spectrogram(N_FFT)(waveform)
    tensors = {"waveform": waveform, "spec": spec}

    h, out, loss, grad = frontend_case(spec, BW_Q)
    tensors["centre_hz"] = h.f0
    tensors["frontend.out"] = out[..., :FRONTEND_FRAMES].contiguous()
    tensors["frontend.grad.bw_Q"] = grad
    _, _, loss2, grad2 = frontend_case(spec, BW_Q_SECOND)
    tensors["frontend_q13.grad.bw_Q"] = grad2
    tensors["frontend.loss"] = loss.reshape(1)
    tensors["frontend_q13.loss"] = loss2.reshape(1)

    model = build_network(waveform)
    state = model.state_dict()
    param_names = [n for n, _ in model.named_parameters()]
    for name, t in state.items():
        if name.endswith("num_batches_tracked") or name == "hstft.spec.window":
            continue
        kind = "param" if name in param_names else "buffer"
        tensors[f"net.{kind}.{name}"] = t.clone()
    labels = torch.tensor(LABELS)
    tensors["net.labels"] = labels

    model.eval()
    logits = model.forward_spectrogram(spec)
    loss = F.cross_entropy(logits, labels)
    tensors["net.eval.logits"] = logits.detach()
    tensors["net.eval.loss"] = loss.detach().reshape(1)
    for n, g in grads_of(model, loss).items():
        tensors[f"net.eval.grad.{n}"] = g
    # The spectrogram path and the waveform path agree (the Spectrogram port is the one above).
    assert torch.equal(model(waveform), logits)

    model.train()
    model.conv_2d.dropout.p = 0.0
    logits = model.forward_spectrogram(spec)
    loss = F.cross_entropy(logits, labels)
    tensors["net.train.logits"] = logits.detach()
    tensors["net.train.loss"] = loss.detach().reshape(1)
    for n, g in grads_of(model, loss).items():
        tensors[f"net.train.grad.{n}"] = g
    for name, t in model.state_dict().items():
        if "running_" in name:
            tensors[f"net.train.buffer.{name}"] = t.clone()

    for dataset, (batch, frames) in TAGGING_CASES.items():
        g = torch.Generator().manual_seed(11)
        spec_t = torch.exp(3.0 * torch.randn(batch, TAGGING_BINS, frames, generator=g))
        tagger = build_network(None, dataset, TAGGING_CHANNELS, spec_t)
        tagger.eval()
        probs = tagger.forward_spectrogram(spec_t)
        targets = (torch.rand(probs.shape, generator=g) < 0.3).float()
        loss = F.binary_cross_entropy(probs, targets)
        tensors[f"{dataset}.spec"] = spec_t
        tensors[f"{dataset}.targets"] = targets
        tensors[f"{dataset}.probs"] = probs.detach()
        tensors[f"{dataset}.loss"] = loss.detach().reshape(1)
        for name, t in tagger.state_dict().items():
            if name.endswith("num_batches_tracked") or name == "hstft.spec.window":
                continue
            kind = "param" if t.requires_grad or name in dict(tagger.named_parameters()) else "buffer"
            tensors[f"{dataset}.{kind}.{name}"] = t.clone()
        for n, gr in grads_of(tagger, loss).items():
            tensors[f"{dataset}.grad.{n}"] = gr

    args.out.mkdir(parents=True, exist_ok=True)
    meta = {"generator": COMMAND, "torch": TORCH_VERSION}
    write_safetensors(args.out / "harmonic_cnn.safetensors", tensors, meta)
    sidecar = {
        "generator": COMMAND,
        "torch": TORCH_VERSION,
        "numpy": NUMPY_VERSION,
        "reference": "minzwon/data-driven-harmonic-filters training/modules.py, training/model.py",
        "sample_rate": SAMPLE_RATE,
        "n_fft": N_FFT,
        "hop": N_FFT // 2,
        "n_harmonic": N_HARMONIC,
        "semitone_scale": SEMITONE_SCALE,
        "level": h.level,
        "low_midi": librosa_note_to_midi("C1"),
        "high_note": librosa_hz_to_note(SAMPLE_RATE / (2 * N_HARMONIC)),
        "conv_channels": CONV_CHANNELS,
        "dataset": "keyword",
        "bw_q": BW_Q,
        "bw_q_second": BW_Q_SECOND,
        "labels": LABELS,
        "state_dict": [[n, list(t.shape)] for n, t in state.items()],
        "parameters": param_names,
    }
    (args.out / "harmonic_cnn.json").write_text(json.dumps(sidecar, indent=1) + "\n")
    total = sum(p.stat().st_size for p in args.out.iterdir())
    if total > MAX_TOTAL_BYTES:
        sys.exit(f"fixtures total {total} bytes, over the {MAX_TOTAL_BYTES}-byte budget")
    print(f"wrote {args.out} ({total} bytes); level {h.level}, frames {spec.shape[-1]}")


if __name__ == "__main__":
    main()
