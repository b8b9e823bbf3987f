// AudioWorklet processor: mono PCM 16-bit little-endian frames of 20 ms at
// 16 kHz, posted to the page. When the context runs at another rate the
// input is averaged over each 16 kHz sample period (a box filter: enough
// for speech recognition).
class PCM16Capture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.ratio = sampleRate / 16000;
    this.frame = new Int16Array(320);
    this.n = 0;
    this.acc = 0;
    this.count = 0;
    this.pos = 0;
  }
  push(v) {
    const s = Math.max(-1, Math.min(1, v));
    this.frame[this.n++] = s < 0 ? s * 0x8000 : s * 0x7fff;
    if (this.n === this.frame.length) {
      this.port.postMessage(this.frame.buffer, [this.frame.buffer]);
      this.frame = new Int16Array(320);
      this.n = 0;
    }
  }
  process(inputs) {
    const ch = inputs[0] && inputs[0][0];
    if (!ch) return true;
    if (this.ratio === 1) {
      for (let i = 0; i < ch.length; i++) this.push(ch[i]);
      return true;
    }
    for (let i = 0; i < ch.length; i++) {
      this.acc += ch[i];
      this.count++;
      this.pos += 1;
      if (this.pos >= this.ratio) {
        this.pos -= this.ratio;
        this.push(this.acc / this.count);
        this.acc = 0;
        this.count = 0;
      }
    }
    return true;
  }
}
registerProcessor("pcm16-capture", PCM16Capture);
