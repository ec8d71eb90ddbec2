#pragma once
// A fixed pool of worker threads with a blocking parallel_for. Work is split
// into contiguous chunks so results never depend on the thread count.
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "libquant/export.hpp"

namespace libquant {

class LIBQUANT_API ThreadPool {
 public:
  // 0 threads means std::thread::hardware_concurrency().
  explicit ThreadPool(unsigned n_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  unsigned size() const noexcept { return n_threads_; }
  // Calls fn(begin, end) on disjoint ranges covering [0, n), `grain` items at
  // least per call; blocks until all are done and rethrows the first exception.
  void parallel_for(size_t n, size_t grain, const std::function<void(size_t, size_t)>& fn);

 private:
  void worker_loop();
  void run_chunks(std::unique_lock<std::mutex>& lock);  // take chunks until none are left
  unsigned n_threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  const std::function<void(size_t, size_t)>* job_ = nullptr;
  size_t job_n_ = 0, job_chunk_ = 0, next_ = 0, pending_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

}  // namespace libquant
