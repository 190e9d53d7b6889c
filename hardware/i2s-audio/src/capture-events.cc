// Turning the capture thread's event batches into JS objects, on the JS thread.
#include <algorithm>
#include <memory>

#include "capture.h"

namespace i2s {

namespace {

Napi::Value eventToJs(Napi::Env env, CaptureEvent& e) {
  Napi::Object o = Napi::Object::New(env);
  switch (e.kind) {
    case CaptureEvent::Kind::Packets: {
      o.Set("type", "packets");
      o.Set("recording", Napi::Number::New(env, e.recording));
      Napi::Array list = Napi::Array::New(env, e.packets.size());
      for (size_t i = 0; i < e.packets.size(); i++) {
        Napi::Object p = Napi::Object::New(env);
        p.Set("data", Napi::Buffer<uint8_t>::Copy(env, e.packets[i].data.data(), e.packets[i].data.size()));
        p.Set("samples", Napi::Number::New(env, e.packets[i].samples));
        list.Set(static_cast<uint32_t>(i), p);
      }
      o.Set("packets", list);
      break;
    }
    case CaptureEvent::Kind::Pcm: {
      o.Set("type", "pcm");
      o.Set("recording", Napi::Number::New(env, e.recording));
      Napi::Int16Array pcm = Napi::Int16Array::New(env, e.pcm.size());
      std::copy(e.pcm.begin(), e.pcm.end(), pcm.Data());
      o.Set("samples", pcm);
      break;
    }
    case CaptureEvent::Kind::End:
      o.Set("type", "end");
      o.Set("recording", Napi::Number::New(env, e.recording));
      o.Set("reason", e.reason);
      o.Set("samples", Napi::Number::New(env, static_cast<double>(e.samples)));
      o.Set("packets", Napi::Number::New(env, e.packetCount));
      o.Set("xruns", Napi::Number::New(env, e.xruns));
      break;
    case CaptureEvent::Kind::Fault:
      o.Set("type", "fault");
      o.Set("error", failureToObject(env, e.failure));
      break;
    case CaptureEvent::Kind::Recovered:
      o.Set("type", "recovered");
      break;
    case CaptureEvent::Kind::Eof:
      o.Set("type", "eof");
      break;
  }
  return o;
}

}  // namespace

void deliverCaptureEvents(Napi::Env env, Napi::Function callback, std::nullptr_t*, EventBatch* batch) {
  std::unique_ptr<EventBatch> owned(batch);
  // env is null when the function is torn down with batches still queued: just free them.
  if (env == nullptr || callback.IsEmpty()) return;
  for (CaptureEvent& e : *owned) callback.Call({eventToJs(env, e)});
}

}  // namespace i2s
