#!/usr/bin/env python3
"""PyTorch reference for models/examples/bench_train.rs (CPU) and bench_train_gpu.rs (CUDA):
images/s of forward + backward + SGD step (momentum 0.9) for the same architectures (CIFAR
ResNet-20 with option-A shortcuts and torchvision-equivalent MobileNetV2 at 3x32x32 with 10
classes; torchvision-equivalent ResNet-18 at 3x224x224 with 1000 classes; written out here so
torchvision is not needed), warm-up steps excluded. On CUDA the device is synchronised before
and after the timed steps; cuDNN convolutions use PyTorch's default TF32 setting unless
`--no-tf32`. Prints `images_per_s=<value>` on the last line.

usage: bench_train_torch.py --model resnet20|mobilenet_v2|resnet18 [--batch 128] [--threads N]
                            [--warmup 2] [--iters 5] [--device cpu|cuda] [--no-tf32]
"""
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlockA(nn.Module):
    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.pad = planes // 4 if (stride != 1 or cin != planes) else None

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        sc = x if self.pad is None else F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))
        return F.relu(out + sc)


class ResNetCifar(nn.Module):
    def __init__(self, n=3, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        layers, cin = [], 16
        for stage, planes in enumerate([16, 32, 64]):
            for i in range(n):
                layers.append(BasicBlockA(cin, planes, 2 if stage > 0 and i == 0 else 1))
                cin = planes
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        x = self.layers(F.relu(self.bn1(self.conv1(x))))
        return self.fc(x.mean((2, 3)))


class BasicBlock(nn.Module):
    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.down = None
        if stride != 1 or cin != planes:
            self.down = nn.Sequential(nn.Conv2d(cin, planes, 1, stride, bias=False),
                                      nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.down is None else self.down(x)))


class ResNet18(nn.Module):
    """torchvision `resnet18` (7x7/2 stem, 3x3/2 max pool, [2, 2, 2, 2] basic blocks)."""

    def __init__(self, num_classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        layers, cin = [], 64
        for stage, planes in enumerate([64, 128, 256, 512]):
            for i in range(2):
                layers.append(BasicBlock(cin, planes, 2 if stage > 0 and i == 0 else 1))
                cin = planes
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        return self.fc(self.layers(x).mean((2, 3)))


def conv_bn_relu6(cin, cout, k, stride, groups=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU6(inplace=True))


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, t):
        super().__init__()
        hidden = cin * t
        layers = [] if t == 1 else [conv_bn_relu6(cin, hidden, 1, 1)]
        layers += [conv_bn_relu6(hidden, hidden, 3, stride, hidden),
                   nn.Conv2d(hidden, cout, 1, 1, 0, bias=False), nn.BatchNorm2d(cout)]
        self.conv = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.conv(x) if self.residual else self.conv(x)


class MobileNetV2(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        settings = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                    (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
        feats, cin = [conv_bn_relu6(3, 32, 3, 2)], 32
        for t, c, n, s in settings:
            for i in range(n):
                feats.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        feats.append(conv_bn_relu6(cin, 1280, 1, 1))
        self.features = nn.Sequential(*feats)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x).mean((2, 3)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, choices=["resnet20", "mobilenet_v2", "resnet18"])
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--no-tf32", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    if a.no_tf32:
        torch.backends.cudnn.allow_tf32 = False
    dev = torch.device(a.device)
    if a.model == "resnet18":
        model, hw, classes = ResNet18(), 224, 1000
    else:
        model, hw, classes = (ResNetCifar() if a.model == "resnet20" else MobileNetV2()), 32, 10
    model = model.to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(a.batch, 3, hw, hw, device=dev)
    y = torch.arange(a.batch, device=dev) % classes
    model.train()

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()

    if a.device == "cuda":
        # Whole timed loop between synchronisations (kernels run asynchronously).
        for _ in range(a.warmup):
            step()
        torch.cuda.synchronize()
        t = time.perf_counter()
        for _ in range(a.iters):
            step()
        torch.cuda.synchronize()
        elapsed = time.perf_counter() - t
    else:
        elapsed = 0.0
        for i in range(a.warmup + a.iters):
            t = time.perf_counter()
            step()
            if i >= a.warmup:
                elapsed += time.perf_counter() - t
    print(f"model={a.model} torch={torch.__version__} device={a.device} threads={a.threads} "
          f"batch={a.batch}")
    print(f"images_per_s={a.batch * a.iters / elapsed:.2f}")


if __name__ == "__main__":
    main()
