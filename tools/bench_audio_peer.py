"""PyTorch-eager peer for `esper bench --only audio`: Wav2CLIP at the released size (spectrogram
n_fft 512 / hop 353, log, batch standardisation, ResNet-18 on one channel, MLP 512-512-512) on 5 s
of sound, random weights, eval mode. Written for this benchmark from the layer list in
docs/audio.md; prints JSON. Run with Debian's python3-torch:
  /usr/bin/python3 tools/bench_audio_peer.py [threads] [repeats]"""
import json, sys, time

import torch
from torch import nn

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
torch.set_num_threads(threads)
torch.manual_seed(0)


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + (self.down(x) if self.down is not None else x))


class Wav2Clip(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("window", torch.hann_window(512))
        self.stem = nn.Sequential(nn.Conv2d(1, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
                                  nn.MaxPool2d(3, 2, 1))
        layers, cin = [], 64
        for i, width in enumerate([64, 128, 256, 512]):
            for b in range(2):
                layers.append(Block(cin, width, 2 if i > 0 and b == 0 else 1))
                cin = width
        self.layers = nn.Sequential(*layers)
        self.mlp = nn.Sequential(nn.Linear(512, 512), nn.ReLU(), nn.Dropout(0.1), nn.Linear(512, 512))

    def forward(self, wave):
        spec = torch.stft(wave, 512, 353, 512, self.window, center=True, pad_mode="reflect",
                          return_complex=True).abs().pow(2)
        x = torch.log(spec + 1e-7)
        x = (x - x.mean()) / (x.std() + 1e-9)
        x = self.layers(self.stem(x.unsqueeze(1)))
        return self.mlp(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


model = Wav2Clip().eval()
wave = torch.randn(1, 5 * 16000) * 0.1
times = []
with torch.inference_mode():
    for r in range(repeats + 1):
        t0 = time.perf_counter()
        model(wave).sum().item()
        if r:
            times.append((time.perf_counter() - t0) * 1000)
times.sort()
print(json.dumps({"peer": "pytorch eager " + torch.__version__, "threads": threads,
                  "wav2clip": {"seconds_of_sound": 5, "ms": times[len(times) // 2]}}))
