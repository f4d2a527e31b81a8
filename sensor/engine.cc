#include "sensor/engine.h"

#include <algorithm>

namespace auscult::sensor {

Engine::Engine(const EngineOptions& options, const OuiDatabase* oui, ObservationSink* sink)
    : options_(options),
      sink_(sink),
      flows_(options.flows, sink, &devices_),
      devices_(options.devices, oui),
      fingerprinter_(options.tcp_os) {}

void Engine::Process(const RawFrame& frame) {
  ++stats_.packets;
  stats_.bytes += frame.wire_length;
  if (!decoder_.Decode(frame, view_)) {
    ++stats_.undecodable;
    if (IsPlausibleTimestamp(frame.timestamp)) AdvanceTime(frame.timestamp);
    return;
  }
  if (!options_.vlans.empty() &&
      std::find(options_.vlans.begin(), options_.vlans.end(), view_.vlan_outer) == options_.vlans.end()) {
    ++stats_.filtered;
    AdvanceTime(frame.timestamp);
    return;
  }
  if (view_.malformed) ++stats_.malformed;
  devices_.Update(view_);
  if (view_.is_fragment) {
    if (view_.first_fragment && view_.has_transport) {
      fragments_.Remember(view_);
    } else if (!view_.first_fragment && !fragments_.Complete(view_)) {
      decoder_.CountAnomaly(Anomaly::kFragmentWithoutFirst);
    }
  }
  if (view_.has_ip) {
    flows_.Update(view_);
    if (view_.ip_protocol == kIpProtoTcp && (view_.tcp_flags & kTcpSyn) != 0) fingerprinter_.OnTcp(view_, devices_);
  } else if (!view_.link_payload.empty()) {
    for (FrameParser* p : options_.frame_parsers) p->OnFrame(view_, devices_);
  }
  AdvanceTime(frame.timestamp);
}

void Engine::Tick(TimeNs now) { AdvanceTime(now); }

void Engine::AdvanceTime(TimeNs now) {
  if (!started_) {
    started_ = true;
    window_start_ = last_expire_ = latest_ = now;
  }
  // Merged or multi-file input can step back in time; windows and timeouts only move forward.
  if (now <= latest_) return;
  latest_ = now;
  if (now - last_expire_ >= kNanosPerSecond) {
    flows_.Expire(now);
    last_expire_ = now;
  }
  if (now - window_start_ >= options_.report_interval) {
    devices_.EndWindow(now, *sink_);
    sink_->OnWindowEnd();
    window_start_ = now;
  }
}

void Engine::Finish() {
  flows_.Flush();
  devices_.EndWindow(latest_, *sink_);
  sink_->OnWindowEnd();
}

}  // namespace auscult::sensor
