#include "collector/query/server_poller.h"

namespace auscult::collector {

void ServerPoller::Start() {
  thread_ = std::thread([queue = queue_.get()] {
    void* tag = nullptr;
    bool ok = false;
    // No call is ever requested on this queue: Next() returns false once Stop() shuts it down.
    while (queue->Next(&tag, &ok)) {
    }
  });
}

void ServerPoller::Stop() {
  if (stopped_) return;
  stopped_ = true;
  queue_->Shutdown();
  if (thread_.joinable()) {
    thread_.join();
  } else {
    void* tag = nullptr;
    bool ok = false;
    while (queue_->Next(&tag, &ok)) {
    }
  }
}

}  // namespace auscult::collector
