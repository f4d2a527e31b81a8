#ifndef AUSCULT_COLLECTOR_CLASSIFY_CLASSIFIER_LOOP_H_
#define AUSCULT_COLLECTOR_CLASSIFY_CLASSIFIER_LOOP_H_

#include <condition_variable>
#include <mutex>
#include <thread>

#include "collector/classify/classifier.h"
#include "collector/store/database.h"

namespace auscult::collector {

// The collector's background classification: every two seconds (or at once on RequestReload) it
// reads the rules file again if it changed, then works off the reclassify queue on a connection of
// its own. The first pass adopts the rules (a new version queues every device). Errors are logged;
// the rules in force and the queued devices stay.
class ClassifierLoop {
 public:
  ClassifierLoop(Classifier* classifier, ConnectionPool* pool)
      : classifier_(classifier), pool_(pool), thread_([this] { Run(); }) {}
  ~ClassifierLoop();
  ClassifierLoop(const ClassifierLoop&) = delete;
  ClassifierLoop& operator=(const ClassifierLoop&) = delete;

  // Reads the rules file now, even if it looks unchanged (SIGHUP).
  void RequestReload();

 private:
  void Run();

  Classifier* const classifier_;
  ConnectionPool* const pool_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  bool reload_ = false;    // guarded by mu_
  std::thread thread_;     // last: starts once the members above exist
};

}  // namespace auscult::collector

#endif  // AUSCULT_COLLECTOR_CLASSIFY_CLASSIFIER_LOOP_H_
