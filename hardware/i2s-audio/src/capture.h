// The microphone: an ALSA capture PCM read on its own thread, conditioned, kept in a pre-roll ring
// while idle and Opus-encoded during a recording. JS sees only event batches (packets, end, fault,
// recovered, eof) through a thread-safe function.
#pragma once

#include <napi.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "alsa-device.h"
#include "capture-engine.h"
#include "conditioner.h"

namespace i2s {

void deliverCaptureEvents(Napi::Env env, Napi::Function callback, std::nullptr_t* context, EventBatch* batch);
using CaptureTsfn = Napi::TypedThreadSafeFunction<std::nullptr_t, EventBatch, deliverCaptureEvents>;

class Capture : public Napi::ObjectWrap<Capture> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Capture(const Napi::CallbackInfo& info);
  ~Capture() override;

 private:
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Record(const Napi::CallbackInfo& info);
  Napi::Value StopRecording(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Info(const Napi::CallbackInfo& info);

  void run();
  // Reads one period into raw_; returns frames read, or a negative fatal ALSA error.
  long readPeriod(size_t frames);
  bool deliver(EventBatch& batch);
  void handleRequests(EventBatch& batch);
  // Moves carry_ to the front of batch (caller holds engineMutex_).
  void takeCarry(EventBatch& batch);
  void paceTo(uint64_t framesSinceOpen);
  // After a fault: closes the device and reopens it with backoff. False when asked to stop.
  bool reopenAfterFault(const DeviceFailure& failure);
  // Waits until stopped, answering record() with an immediate end (the input is exhausted).
  void parkUntilStopped();
  bool waitFor(unsigned ms);
  void shutdown();

  PcmSpec pcmSpec_;
  ConditionerSpec condSpec_;
  EngineSpec engineSpec_;
  bool pace_ = false;
  uint64_t maxFrames_ = 0;
  unsigned retryMinMs_ = 100;
  unsigned retryMaxMs_ = 2000;

  AlsaPcm pcm_;
  std::unique_ptr<Conditioner> conditioner_;
  std::unique_ptr<CaptureEngine> engine_;
  std::vector<uint8_t> raw_;
  std::vector<int16_t> mono_;
  struct timespec paceStart_ {};

  CaptureTsfn tsfn_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopThread_ = false;
  uint32_t pendingRecord_ = 0;
  bool pendingStop_ = false;
  uint32_t nextRecordingId_ = 1;
  std::atomic<uint64_t> framesCaptured_{0};
  std::atomic<uint32_t> xruns_{0};
  std::atomic<bool> faulted_{false};
  // Guards engine_ and carry_. The capture thread holds it from a period's requests to that
  // period's delivery (so batches leave in order); the JS thread only ever try-locks it (it must
  // never wait on a thread that may be waiting on JS).
  std::mutex engineMutex_;
  // The end of a recording finished on the JS thread that could not be queued at once (queue
  // full): the capture thread sends it before anything else.
  EventBatch carry_;
  // Read once at start: the encoder itself belongs to the capture thread.
  int lookahead_ = 0;
};

}  // namespace i2s
