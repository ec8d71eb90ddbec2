#include "libquant/core/thread_pool.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "libquant/core/error.hpp"

namespace libquant {

ThreadPool::ThreadPool(unsigned n_threads) {
  n_threads_ = n_threads ? n_threads : std::max(1u, std::thread::hardware_concurrency());
  // The calling thread takes part in every job, so start one fewer worker.
  try {
    workers_.reserve(n_threads_ - 1);
    for (unsigned i = 1; i < n_threads_; ++i) workers_.emplace_back([this] { worker_loop(); });
  } catch (const std::exception& e) {
    // The destructor will not run: stop and join the workers that did start
    // (a joinable std::thread destroyed here would terminate the process).
    const size_t started = workers_.size();
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    throw Error(ErrorCode::OutOfMemory,
                "cannot start " + std::to_string(n_threads_) + " threads (" + std::to_string(started + 1) +
                    " started): " + e.what(),
                "Use fewer threads");
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run_chunks(std::unique_lock<std::mutex>& lock) {
  while (next_ < job_n_) {
    const size_t begin = next_;
    const size_t end = std::min(job_n_, begin + job_chunk_);
    next_ = end;
    ++pending_;
    lock.unlock();
    try {
      (*job_)(begin, end);
    } catch (...) {
      std::lock_guard g(mu_);
      if (!error_) error_ = std::current_exception();
    }
    lock.lock();
    if (--pending_ == 0 && next_ >= job_n_) done_cv_.notify_all();
  }
}

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  for (;;) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
    if (stop_) return;
    seen = generation_;
    run_chunks(lock);
  }
}

void ThreadPool::parallel_for(size_t n, size_t grain, const std::function<void(size_t, size_t)>& fn) {
  if (n == 0) return;
  grain = std::max<size_t>(grain, 1);
  if (workers_.empty() || n <= grain) {
    fn(0, n);
    return;
  }
  // Chunks of at least `grain`, about 4 per thread for load balance.
  const size_t chunk = std::max(grain, (n + size_t{4} * n_threads_ - 1) / (size_t{4} * n_threads_));
  std::unique_lock lock(mu_);
  job_ = &fn;
  job_n_ = n;
  job_chunk_ = chunk;
  next_ = 0;
  pending_ = 0;
  error_ = nullptr;
  ++generation_;
  cv_.notify_all();
  run_chunks(lock);  // the calling thread works too
  done_cv_.wait(lock, [&] { return pending_ == 0; });
  job_ = nullptr;
  job_n_ = 0;
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

}  // namespace libquant
