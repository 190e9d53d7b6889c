// The microphone thread: open, read, pace, recover, reopen; requests from JS at period boundaries.
#include "capture.h"

#include <time.h>

#include <algorithm>

namespace i2s {

namespace {

unsigned optUint(const Napi::Object& o, const char* key, unsigned dflt) {
  return o.Has(key) && o.Get(key).IsNumber() ? o.Get(key).As<Napi::Number>().Uint32Value() : dflt;
}

}  // namespace

Napi::Function Capture::Define(Napi::Env env) {
  return DefineClass(env, "Capture", {
      InstanceMethod<&Capture::Start>("start"),
      InstanceMethod<&Capture::Record>("record"),
      InstanceMethod<&Capture::StopRecording>("stopRecording"),
      InstanceMethod<&Capture::Close>("close"),
      InstanceMethod<&Capture::Info>("info"),
  });
}

Capture::Capture(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Capture>(info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throw Napi::TypeError::New(env, "Capture takes an options object");
  Napi::Object o = info[0].As<Napi::Object>();
  pcmSpec_ = readPcmSpec(o);
  if (!o.Has("periodFrames")) pcmSpec_.periodFrames = pcmSpec_.rate / 50;
  if (!isOpusRate(static_cast<int>(pcmSpec_.rate)))
    throw Napi::RangeError::New(env, "capture rate must be an Opus rate (8000, 12000, 16000, 24000, 48000), got " + std::to_string(pcmSpec_.rate));
  condSpec_.format = pcmSpec_.format;
  condSpec_.channels = pcmSpec_.channels;
  condSpec_.rate = pcmSpec_.rate;
  condSpec_.slot = optUint(o, "slot", 0);
  if (condSpec_.slot >= pcmSpec_.channels) throw Napi::RangeError::New(env, "slot must be below channels");
  if (o.Has("gainDb") && o.Get("gainDb").IsNumber()) condSpec_.gainDb = o.Get("gainDb").As<Napi::Number>().DoubleValue();
  if (condSpec_.gainDb < -40 || condSpec_.gainDb > 60) throw Napi::RangeError::New(env, "gainDb must be within -40..60");
  if (o.Has("highPass")) condSpec_.highPass = o.Get("highPass").ToBoolean();
  engineSpec_.encoder = readEncoderSpec(o, static_cast<int>(pcmSpec_.rate));
  engineSpec_.encoder.rate = static_cast<int>(pcmSpec_.rate);
  const unsigned perMs = pcmSpec_.rate / 1000;
  unsigned preRollMs = optUint(o, "preRollMs", 400), tailMs = optUint(o, "tailMs", 200), settleMs = optUint(o, "settleMs", 250);
  unsigned quietMs = optUint(o, "quietMs", tailMs);
  if (preRollMs > 10000 || tailMs > 10000 || settleMs > 10000 || quietMs > 10000)
    throw Napi::RangeError::New(env, "preRollMs, tailMs, quietMs and settleMs must be at most 10000");
  engineSpec_.preRollSamples = preRollMs * perMs;
  engineSpec_.tailSamples = tailMs * perMs;
  engineSpec_.quietSamples = quietMs * perMs;
  engineSpec_.settleSamples = settleMs * perMs;
  engineSpec_.pcmTap = o.Has("pcmTap") && o.Get("pcmTap").ToBoolean();
  pace_ = o.Has("pace") && o.Get("pace").ToBoolean();
  if (o.Has("maxFrames") && o.Get("maxFrames").IsNumber()) maxFrames_ = static_cast<uint64_t>(o.Get("maxFrames").As<Napi::Number>().Int64Value());
  retryMinMs_ = std::max(1u, optUint(o, "retryMinMs", 100));
  retryMaxMs_ = std::max(retryMinMs_, optUint(o, "retryMaxMs", 2000));
}

Capture::~Capture() { shutdown(); }

Napi::Value Capture::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (thread_.joinable()) throw Napi::Error::New(env, "capture already started");
  if (!info[0].IsFunction()) throw Napi::TypeError::New(env, "start() takes an event callback");
  {
    // A capture may be started again after close().
    std::lock_guard<std::mutex> lock(mutex_);
    stopThread_ = false;
    pendingRecord_ = 0;
    pendingStop_ = false;
  }
  faulted_ = false;
  try {
    pcm_.open(pcmSpec_, SND_PCM_STREAM_CAPTURE);
  } catch (const DeviceException& e) {
    throw toJsError(env, e.failure);
  }
  conditioner_ = std::make_unique<Conditioner>(condSpec_);
  try {
    engine_ = std::make_unique<CaptureEngine>(engineSpec_);
  } catch (const std::exception& e) {
    pcm_.close();
    throw Napi::Error::New(env, e.what());
  }
  lookahead_ = engine_->lookahead();
  const size_t frameBytes = pcmSpec_.channels * bytesPerSample(pcmSpec_.format);
  raw_.assign(pcm_.periodFrames() * frameBytes, 0);
  mono_.assign(pcm_.periodFrames(), 0);
  // Queue of 64 batches (>1 s of audio): enough slack for a busy event loop; beyond it the thread
  // blocks, which is why close() aborts the function before joining.
  tsfn_ = CaptureTsfn::New(env, info[0].As<Napi::Function>(), "i2s-audio capture", 64, 1, nullptr);
  thread_ = std::thread(&Capture::run, this);
  return Napi::Number::New(env, static_cast<double>(pcm_.periodFrames()));
}

Napi::Value Capture::Record(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!thread_.joinable()) throw Napi::Error::New(env, "capture is not running");
  std::lock_guard<std::mutex> lock(mutex_);
  if (pendingRecord_ != 0) throw Napi::Error::New(env, "a recording is already starting");
  uint32_t id = nextRecordingId_++;
  pendingRecord_ = id;
  pendingStop_ = false;
  wake_.notify_all();
  return Napi::Number::New(env, id);
}

Napi::Value Capture::StopRecording(const Napi::CallbackInfo& info) {
  // Release after a quiet stretch: no tail is needed, so end the recording right here instead of
  // at the capture thread's next period (up to 20 ms later, blocked in snd_pcm_readi). The audio of
  // the period in flight belongs to the quiet stretch; it is not in the clip.
  if (thread_.joinable()) {
    std::unique_lock<std::mutex> engineLock(engineMutex_, std::try_to_lock);
    if (engineLock.owns_lock() && carry_.empty()) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (pendingRecord_ == 0 && engine_->recording() && !engine_->stopping() && engine_->trailingQuiet()) {
        auto* batch = new EventBatch;
        engine_->requestStop(*batch);
        pendingStop_ = false;
        // Queued behind every batch the thread delivered before we took the lock: order holds.
        if (tsfn_.NonBlockingCall(batch) != napi_ok) {
          carry_ = std::move(*batch);
          delete batch;
        }
        return info.Env().Undefined();
      }
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  pendingStop_ = true;
  return info.Env().Undefined();
}

Napi::Value Capture::Close(const Napi::CallbackInfo& info) {
  shutdown();
  return info.Env().Undefined();
}

Napi::Value Capture::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("framesCaptured", Napi::Number::New(env, static_cast<double>(framesCaptured_.load())));
  o.Set("xruns", Napi::Number::New(env, xruns_.load()));
  o.Set("faulted", Napi::Boolean::New(env, faulted_.load()));
  o.Set("running", Napi::Boolean::New(env, thread_.joinable()));
  o.Set("rate", Napi::Number::New(env, pcmSpec_.rate));
  o.Set("frameSamples", Napi::Number::New(env, pcmSpec_.rate / 50));
  o.Set("lookahead", Napi::Number::New(env, lookahead_));
  return o;
}

void Capture::shutdown() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopThread_ = true;
  }
  wake_.notify_all();
  // Abort first: the thread may be blocked handing a batch to this very (JS) thread.
  tsfn_.Abort();
  thread_.join();
  pcm_.close();
}

bool Capture::deliver(EventBatch& batch) {
  if (batch.empty()) return true;
  auto* owned = new EventBatch(std::move(batch));
  batch.clear();
  if (tsfn_.BlockingCall(owned) != napi_ok) {
    delete owned;
    return false;
  }
  return true;
}

bool Capture::waitFor(unsigned ms) {
  std::unique_lock<std::mutex> lock(mutex_);
  return !wake_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stopThread_; });
}

void Capture::takeCarry(EventBatch& batch) {
  if (carry_.empty()) return;
  batch.insert(batch.begin(), std::make_move_iterator(carry_.begin()), std::make_move_iterator(carry_.end()));
  carry_.clear();
}

void Capture::handleRequests(EventBatch& batch) {
  uint32_t record;
  bool stop;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    record = pendingRecord_;
    stop = pendingStop_;
    pendingRecord_ = 0;
    pendingStop_ = false;
  }
  if (record) {
    engine_->abortRecording("closed", batch);
    engine_->startRecording(record, batch);
  }
  if (stop) engine_->requestStop(batch);
}

void Capture::paceTo(uint64_t framesSinceOpen) {
  // The file plugin over a null slave returns data as fast as it is asked: sleep until the instant
  // this many frames would have arrived from a real device.
  uint64_t ns = framesSinceOpen * 1000000000ull / pcmSpec_.rate;
  struct timespec at = paceStart_;
  at.tv_sec += static_cast<time_t>(ns / 1000000000ull);
  at.tv_nsec += static_cast<long>(ns % 1000000000ull);
  if (at.tv_nsec >= 1000000000L) {
    at.tv_sec++;
    at.tv_nsec -= 1000000000L;
  }
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr) == EINTR) {
  }
}

long Capture::readPeriod(size_t frames) {
  const size_t frameBytes = pcmSpec_.channels * bytesPerSample(pcmSpec_.format);
  // Zeroed every time: a null-backed PCM hands back whatever memory it had.
  std::fill(raw_.begin(), raw_.begin() + frames * frameBytes, 0);
  size_t got = 0;
  int emptyReads = 0;
  while (got < frames) {
    snd_pcm_sframes_t r = snd_pcm_readi(pcm_.handle(), raw_.data() + got * frameBytes, frames - got);
    if (r == -EPIPE || r == -ESTRPIPE || r == -EINTR) {
      if (r == -EPIPE) {
        xruns_++;
        std::lock_guard<std::mutex> engineLock(engineMutex_);
        engine_->addXrun();
      }
      int rr = snd_pcm_recover(pcm_.handle(), static_cast<int>(r), 1);
      if (rr < 0) return rr;
      continue;
    }
    if (r < 0) return static_cast<long>(r);
    if (r == 0) {
      if (++emptyReads > 100) return -EIO;
      continue;
    }
    got += static_cast<size_t>(r);
  }
  return static_cast<long>(got);
}

bool Capture::reopenAfterFault(const DeviceFailure& failure) {
  pcm_.close();
  unsigned delay = retryMinMs_;
  for (;;) {
    if (!waitFor(delay)) return false;
    EventBatch batch;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (pendingRecord_) {
        CaptureEvent end{CaptureEvent::Kind::End};
        end.recording = pendingRecord_;
        end.reason = "fault";
        batch.push_back(std::move(end));
        pendingRecord_ = 0;
        pendingStop_ = false;
      }
    }
    if (!deliver(batch)) return false;
    try {
      pcm_.open(pcmSpec_, SND_PCM_STREAM_CAPTURE);
    } catch (const DeviceException&) {
      delay = std::min(delay * 2, retryMaxMs_);
      continue;
    }
    if (pcm_.periodFrames() * pcmSpec_.channels * bytesPerSample(pcmSpec_.format) > raw_.size()) {
      raw_.assign(pcm_.periodFrames() * pcmSpec_.channels * bytesPerSample(pcmSpec_.format), 0);
      mono_.assign(pcm_.periodFrames(), 0);
    }
    conditioner_->reset();
    {
      std::lock_guard<std::mutex> engineLock(engineMutex_);
      engine_->deviceOpened();
    }
    faulted_ = false;
    batch.push_back(CaptureEvent{CaptureEvent::Kind::Recovered});
    return deliver(batch);
  }
}

void Capture::parkUntilStopped() {
  for (;;) {
    uint32_t id;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopThread_ || pendingRecord_ != 0; });
      if (stopThread_) return;
      id = pendingRecord_;
      pendingRecord_ = 0;
      pendingStop_ = false;
    }
    EventBatch batch;
    CaptureEvent end{CaptureEvent::Kind::End};
    end.recording = id;
    end.reason = "eof";
    batch.push_back(std::move(end));
    if (!deliver(batch)) return;
  }
}

void Capture::run() {
  EventBatch batch;
  uint64_t sinceOpen = 0;
  {
    std::lock_guard<std::mutex> engineLock(engineMutex_);
    engine_->deviceOpened();
  }
  clock_gettime(CLOCK_MONOTONIC, &paceStart_);
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopThread_) break;
    }
    size_t want = pcm_.periodFrames();
    if (maxFrames_) {
      uint64_t left = maxFrames_ > framesCaptured_ ? maxFrames_ - framesCaptured_ : 0;
      if (left == 0) {
        // The simulated input is used up (the file plugin would now repeat stale data).
        std::unique_lock<std::mutex> engineLock(engineMutex_);
        takeCarry(batch);
        handleRequests(batch);
        engine_->abortRecording("eof", batch);
        batch.push_back(CaptureEvent{CaptureEvent::Kind::Eof});
        const bool delivered = deliver(batch);
        engineLock.unlock();
        if (delivered) parkUntilStopped();
        break;
      }
      want = static_cast<size_t>(std::min<uint64_t>(want, left));
    }
    long n = readPeriod(want);
    if (n < 0) {
      DeviceFailure failure = classifyRunError(pcmSpec_.device, static_cast<int>(n));
      faulted_ = true;
      // Fault first, so JS can name the cause when the recording ends with it.
      CaptureEvent fault{CaptureEvent::Kind::Fault};
      fault.failure = failure;
      std::unique_lock<std::mutex> engineLock(engineMutex_);
      takeCarry(batch);
      batch.push_back(std::move(fault));
      engine_->abortRecording("fault", batch);
      const bool delivered = deliver(batch);
      engineLock.unlock();
      if (!delivered || !reopenAfterFault(failure)) break;
      sinceOpen = 0;
      clock_gettime(CLOCK_MONOTONIC, &paceStart_);
      continue;
    }
    framesCaptured_ += static_cast<uint64_t>(n);
    sinceOpen += static_cast<uint64_t>(n);
    conditioner_->process(raw_.data(), static_cast<size_t>(n), mono_.data());
    std::unique_lock<std::mutex> engineLock(engineMutex_);
    takeCarry(batch);
    handleRequests(batch);
    try {
      engine_->feed(mono_.data(), static_cast<size_t>(n), batch);
    } catch (const std::exception& e) {
      DeviceFailure f{"codec", e.what(), 0};
      CaptureEvent fault{CaptureEvent::Kind::Fault};
      fault.failure = f;
      batch.push_back(std::move(fault));
      engine_->abortRecording("fault", batch);
    }
    if (!deliver(batch)) break;
    engineLock.unlock();
    if (pace_) paceTo(sinceOpen);
  }
  pcm_.close();
}

}  // namespace i2s
