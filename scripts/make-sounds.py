#!/usr/bin/env python3
"""Writes the terminal's feedback sounds to assets/sounds/ (16-bit mono WAV, 22050 Hz).

The four sounds differ in pitch and rhythm, not only in loudness, so they are told apart in a
noisy warehouse and by people who hear some frequencies poorly:
ok = one short high beep; warning = two mid beeps; error = three low, harsh buzzes;
done = a rising three-note figure.
"""
import math, struct, wave, pathlib

RATE = 22050

def tone(freq, ms, volume=0.6, square=False):
    n = int(RATE * ms / 1000)
    out = []
    for i in range(n):
        t = i / RATE
        s = math.sin(2 * math.pi * freq * t)
        if square:
            s = 1.0 if s >= 0 else -1.0
            s *= 0.5
        # 5 ms fade in and out: no clicks.
        edge = min(i, n - 1 - i) / (RATE * 0.005)
        out.append(s * volume * min(1.0, edge))
    return out

def silence(ms):
    return [0.0] * int(RATE * ms / 1000)

SOUNDS = {
    "ok": tone(1760, 90),
    "warning": tone(880, 110) + silence(70) + tone(880, 110),
    "error": tone(220, 160, square=True) + silence(60) + tone(220, 160, square=True)
             + silence(60) + tone(220, 220, square=True),
    "done": tone(1047, 90) + tone(1319, 90) + tone(1568, 180),
}

def main():
    root = pathlib.Path(__file__).resolve().parent.parent / "assets" / "sounds"
    root.mkdir(parents=True, exist_ok=True)
    for name, samples in SOUNDS.items():
        with wave.open(str(root / f"{name}.wav"), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(b"".join(struct.pack("<h", int(s * 32767)) for s in samples))

if __name__ == "__main__":
    main()
