// tapwatch-pcap: a small libpcap binding for tapwatch's live capture.
//
// Design (see native-notes/README.md):
//  * the pcap handle is created and activated on the JS thread (errors are thrown
//    synchronously with libpcap's own message and a `code`);
//  * start() spawns ONE capture thread that loops on pcap_dispatch() and copies every
//    packet, with its header, into the current batch buffer:
//        u32 tsSec | u32 tsNsec | u32 caplen | u32 wirelen | caplen bytes | pad to 4
//    (host byte order; the JS side reads the headers through a Uint32Array);
//  * full batches, and partial ones older than flushMs, are handed to JS through a
//    thread-safe function. The batch buffers are a fixed pool of JS Buffers created here
//    and held by persistent references (so they can never be collected while the thread
//    writes into them). The pool is the bound of the hand-off queue: when no free buffer
//    is left (JS is behind), the capture thread drops the batch it just filled and adds
//    its packets to `queueDropped`. It never blocks and never drops silently;
//  * pcap_stats() is only ever called from the capture thread (it resets the kernel
//    counters on Linux, so there must be one caller); the JS side reads cached values,
//    refreshed every statsMs and once more when the thread ends;
//  * the thread sleeps in poll() on pcap_get_selectable_fd() plus a wake-up pipe, with a
//    timeout (next flush / stats deadline), and reads in non-blocking mode: a blocking
//    pcap_dispatch() on Linux TPACKET_V3 never returns while no packets arrive, which
//    would hold a partial batch back forever;
//  * close() = wake the thread + join + pcap_close() (pcap_breakloop() where there is no
//    selectable fd); the thread drains what the ring holds, flushes its last partial
//    batch and releases the thread-safe function, whose finalizer calls onEnd after
//    every queued batch has been delivered.

#include <napi.h>
#include <pcap/pcap.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

constexpr uint32_t kRecordHeader = 16;

struct BatchMsg {
  uint32_t idx = 0;
  uint32_t used = 0;
  uint32_t packets = 0;
};

Napi::Error MakeError(Napi::Env env, const std::string& code, const std::string& message, int status = 0) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  if (status != 0) err.Set("pcapStatus", Napi::Number::New(env, status));
  return err;
}

uint32_t GetU32(const Napi::Object& o, const char* key, uint32_t def, uint32_t min, uint32_t max) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) return def;
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= min)) return min;
  if (d > max) return max;
  return static_cast<uint32_t>(d);
}

class Capture;
void CallJs(Napi::Env env, Napi::Function cb, Capture* ctx, BatchMsg* msg);
using Tsfn = Napi::TypedThreadSafeFunction<Capture, BatchMsg, CallJs>;

class Capture : public Napi::ObjectWrap<Capture> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Capture",
                       {
                           InstanceMethod<&Capture::Start>("start"),
                           InstanceMethod<&Capture::Stats>("stats"),
                           InstanceMethod<&Capture::Close>("close"),
                           InstanceAccessor<&Capture::Linktype>("linktype"),
                           InstanceAccessor<&Capture::TsPrecision>("tsDigits"),
                           InstanceAccessor<&Capture::Snaplen>("snaplen"),
                           InstanceAccessor<&Capture::BatchBytes>("batchBytes"),
                           InstanceAccessor<&Capture::Warnings>("warnings"),
                       });
  }

  // new Capture({ iface, filter?, snaplen?, promisc?, bufferSize?, timeoutMs?, immediate?,
  //               batchBytes?, queueBatches?, flushMs?, statsMs? })
  explicit Capture(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Capture>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) {
      MakeError(env, "EINVAL", "Capture: options object expected").ThrowAsJavaScriptException();
      return;
    }
    Napi::Object o = info[0].As<Napi::Object>();
    Napi::Value ifv = o.Get("iface");
    if (!ifv.IsString() || ifv.As<Napi::String>().Utf8Value().empty()) {
      MakeError(env, "EINVAL", "Capture: iface must be a non-empty string").ThrowAsJavaScriptException();
      return;
    }
    iface_ = ifv.As<Napi::String>().Utf8Value();
    const uint32_t snaplen = GetU32(o, "snaplen", 262144, 64, 262144);
    const bool promisc = o.Get("promisc").ToBoolean().Value();
    const uint32_t bufferSize = GetU32(o, "bufferSize", 64u << 20, 0, 1u << 30);
    const uint32_t timeoutMs = GetU32(o, "timeoutMs", 100, 1, 60000);
    timeoutMs_ = timeoutMs;
    const bool immediate = o.Get("immediate").ToBoolean().Value();
    const uint32_t minBatch = ((snaplen + kRecordHeader + 3u) & ~3u);
    batchBytes_ = GetU32(o, "batchBytes", 1u << 20, 4096, 64u << 20);
    if (batchBytes_ < minBatch) batchBytes_ = minBatch;
    batchBytes_ &= ~3u;
    queueBatches_ = GetU32(o, "queueBatches", 64, 1, 4096);
    flushMs_ = GetU32(o, "flushMs", 50, 1, 60000);
    statsMs_ = GetU32(o, "statsMs", 100, 1, 60000);

    char errbuf[PCAP_ERRBUF_SIZE];
    errbuf[0] = '\0';
    pcap_ = pcap_create(iface_.c_str(), errbuf);
    if (pcap_ == nullptr) {
      MakeError(env, "EPCAP", std::string("pcap_create(") + iface_ + "): " + errbuf).ThrowAsJavaScriptException();
      return;
    }
    pcap_set_snaplen(pcap_, static_cast<int>(snaplen));
    pcap_set_promisc(pcap_, promisc ? 1 : 0);
    pcap_set_timeout(pcap_, static_cast<int>(timeoutMs));
    if (bufferSize > 0) pcap_set_buffer_size(pcap_, static_cast<int>(bufferSize));
    if (immediate) pcap_set_immediate_mode(pcap_, 1);
#ifdef PCAP_TSTAMP_PRECISION_NANO
    // Ask for nanoseconds; not every platform/version supports it (then µs are scaled).
    pcap_set_tstamp_precision(pcap_, PCAP_TSTAMP_PRECISION_NANO);
#endif

    int rc = pcap_activate(pcap_);
    if (rc < 0) {
      std::string detail = pcap_geterr(pcap_);
      std::string code = "EPCAP";
      if (rc == PCAP_ERROR_NO_SUCH_DEVICE) code = "ENODEV";
      else if (rc == PCAP_ERROR_PERM_DENIED) code = "EPERM";
      else if (rc == PCAP_ERROR_IFACE_NOT_UP) code = "ENETDOWN";
      else if (rc == PCAP_ERROR_PROMISC_PERM_DENIED) code = "EPERM";
      std::string status = pcap_statustostr(rc);
      std::string msg = std::string("pcap_activate(") + iface_ + "): " + status;
      if (!detail.empty() && detail != status) msg += ": " + detail;
      pcap_close(pcap_);
      pcap_ = nullptr;
      MakeError(env, code, msg, rc).ThrowAsJavaScriptException();
      return;
    }
    if (rc > 0) {
      std::string detail = pcap_geterr(pcap_);
      warnings_.push_back(std::string(pcap_statustostr(rc)) + (detail.empty() ? "" : ": " + detail));
    }
    linktype_ = pcap_datalink(pcap_);
#ifdef PCAP_TSTAMP_PRECISION_NANO
    nano_ = pcap_get_tstamp_precision(pcap_) == PCAP_TSTAMP_PRECISION_NANO;
#else
    nano_ = false;
#endif
    snaplen_ = static_cast<uint32_t>(pcap_snapshot(pcap_));

    Napi::Value fv = o.Get("filter");
    if (fv.IsString()) {
      std::string filter = fv.As<Napi::String>().Utf8Value();
      if (!filter.empty()) {
        bpf_u_int32 net = 0, mask = PCAP_NETMASK_UNKNOWN;
        char nerr[PCAP_ERRBUF_SIZE];
        if (pcap_lookupnet(iface_.c_str(), &net, &mask, nerr) != 0) mask = PCAP_NETMASK_UNKNOWN;
        struct bpf_program prog;
        if (pcap_compile(pcap_, &prog, filter.c_str(), 1, mask) != 0) {
          std::string msg = std::string("bad capture filter '") + filter + "': " + pcap_geterr(pcap_);
          pcap_close(pcap_);
          pcap_ = nullptr;
          MakeError(env, "EFILTER", msg).ThrowAsJavaScriptException();
          return;
        }
        int src = pcap_setfilter(pcap_, &prog);
        pcap_freecode(&prog);
        if (src != 0) {
          std::string msg = std::string("pcap_setfilter('") + filter + "'): " + pcap_geterr(pcap_);
          pcap_close(pcap_);
          pcap_ = nullptr;
          MakeError(env, "EFILTER", msg).ThrowAsJavaScriptException();
          return;
        }
      }
    }
  }

  ~Capture() override { Shutdown(); }

  // Stops and joins the capture thread, closes the handle. Safe to call repeatedly,
  // from close(), the destructor and the environment cleanup hook.
  void Shutdown() {
    if (thread_.joinable()) {
      stop_.store(true, std::memory_order_release);
      // Without a selectable fd the thread sits in a blocking pcap_dispatch(): break it.
      if (pcap_ != nullptr && selFd_ < 0) pcap_breakloop(pcap_);
      if (wake_[1] >= 0) {
        char c = 1;
        ssize_t w = write(wake_[1], &c, 1);
        (void)w;
      }
      thread_.join();
    }
    for (int& fd : wake_) {
      if (fd >= 0) close(fd);
      fd = -1;
    }
    if (pcap_ != nullptr) {
      pcap_close(pcap_);
      pcap_ = nullptr;
    }
  }

  // start(onBatch(buf, usedBytes, packets), onEnd(errorMessage | null))
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (pcap_ == nullptr) {
      MakeError(env, "ECLOSED", "capture is closed").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (started_) {
      MakeError(env, "EINVAL", "capture already started").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (info.Length() < 2 || !info[0].IsFunction() || !info[1].IsFunction()) {
      MakeError(env, "EINVAL", "start(onBatch, onEnd) expects two functions").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    // The thread polls the pcap fd together with a wake-up pipe, with a timeout, and reads
    // in non-blocking mode: with TPACKET_V3 a blocking pcap_dispatch() waits forever when no
    // packets arrive, which would hold a partly filled batch back indefinitely.
    char errbuf[PCAP_ERRBUF_SIZE];
    selFd_ = pcap_get_selectable_fd(pcap_);
    if (selFd_ >= 0) {
      if (pcap_setnonblock(pcap_, 1, errbuf) != 0) {
        MakeError(env, "EPCAP", std::string("pcap_setnonblock: ") + errbuf).ThrowAsJavaScriptException();
        return env.Undefined();
      }
      if (pipe(wake_) != 0) {
        MakeError(env, "EPCAP", "pipe() failed").ThrowAsJavaScriptException();
        return env.Undefined();
      }
      for (int fd : wake_) {
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        fcntl(fd, F_SETFD, FD_CLOEXEC);
      }
    }
    const uint32_t pool = queueBatches_ + 1;  // +1: the batch the thread is filling
    refs_.reserve(pool);
    data_.reserve(pool);
    msgs_.resize(pool);
    for (uint32_t i = 0; i < pool; i++) {
      Napi::Buffer<uint8_t> b = Napi::Buffer<uint8_t>::New(env, batchBytes_);
      if (env.IsExceptionPending()) return env.Undefined();
      data_.push_back(b.Data());
      refs_.push_back(Napi::Persistent(b));
      msgs_[i].idx = i;
      if (i > 0) free_.push_back(i);
    }
    cur_ = 0;
    onEnd_ = Napi::Persistent(info[1].As<Napi::Function>());
    tsfn_ = Tsfn::New(env, info[0].As<Napi::Function>(), "tapwatch-pcap", 0, 1, this,
                      [](Napi::Env fenv, void*, Capture* self) { self->OnTsfnFinalize(fenv); });
    Ref();  // keep this object alive until the thread-safe function is finalized
    // If the environment goes away while capturing (process.exit, worker termination),
    // stop and join the thread before anything it touches is torn down.
    napi_add_env_cleanup_hook(env, &Capture::CleanupHook, this);
    hookEnv_ = env;
    started_ = true;
    thread_ = std::thread([this]() { Run(); });
    return env.Undefined();
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    auto n = [&](const char* k, const std::atomic<uint64_t>& v) {
      o.Set(k, Napi::Number::New(env, static_cast<double>(v.load(std::memory_order_relaxed))));
    };
    n("received", received_);
    n("dropped", dropped_);
    n("ifdropped", ifdropped_);
    n("queueDropped", queueDropped_);
    n("batches", batches_);
    n("captured", captured_);
    n("delivered", delivered_);
    o.Set("running", Napi::Boolean::New(env, running_.load()));
    return o;
  }

  // close(): stops the thread (pcap_breakloop + join) and closes the handle. The JS
  // onEnd callback fires once every batch already queued has been delivered.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown();
    return info.Env().Undefined();
  }

  Napi::Value Linktype(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), linktype_); }
  Napi::Value TsPrecision(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), nano_ ? 9 : 6); }
  Napi::Value Snaplen(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), snaplen_); }
  Napi::Value BatchBytes(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), batchBytes_); }
  Napi::Value Warnings(const Napi::CallbackInfo& info) {
    Napi::Array a = Napi::Array::New(info.Env(), warnings_.size());
    for (size_t i = 0; i < warnings_.size(); i++) a.Set(static_cast<uint32_t>(i), warnings_[i]);
    return a;
  }

  // ---- called on the JS thread by the thread-safe function ----
  void Deliver(Napi::Env env, Napi::Function cb, BatchMsg* msg) {
    if (env != nullptr && cb != nullptr) {
      Napi::Buffer<uint8_t> buf = refs_[msg->idx].Value();
      Napi::Number used = Napi::Number::New(env, msg->used);
      Napi::Number pkts = Napi::Number::New(env, msg->packets);
      delivered_.fetch_add(msg->packets, std::memory_order_relaxed);
      // A JS exception stays pending and is reported by Node as uncaught; the buffer is
      // returned to the pool below either way.
      cb.Call({buf, used, pkts});
    } else {
      queueDropped_.fetch_add(msg->packets, std::memory_order_relaxed);
    }
    std::lock_guard<std::mutex> lk(freeMu_);
    free_.push_back(msg->idx);
  }

 private:
  static void CleanupHook(void* arg) {
    Capture* self = static_cast<Capture*>(arg);
    self->tearingDown_ = true;
    self->hookEnv_ = nullptr;
    self->Shutdown();
  }

  void OnTsfnFinalize(Napi::Env env) {
    // Runs on the JS thread after the capture thread released the function and all
    // queued batches were delivered.
    if (thread_.joinable()) {
      // The thread has already called Release() and is about to return.
      thread_.join();
    }
    if (hookEnv_ != nullptr) {
      napi_remove_env_cleanup_hook(hookEnv_, &Capture::CleanupHook, this);
      hookEnv_ = nullptr;
    }
    if (!onEnd_.IsEmpty()) {
      if (!tearingDown_ && env != nullptr) {
        Napi::HandleScope scope(env);
        Napi::Value err = error_.empty() ? env.Null() : Napi::String::New(env, error_);
        onEnd_.Call({err});
      }
      onEnd_.Reset();
    }
    for (auto& r : refs_) r.Reset();
    refs_.clear();
    data_.clear();
    Unref();
  }

  void RefreshStats() {
    struct pcap_stat ps;
    std::memset(&ps, 0, sizeof ps);
    if (pcap_stats(pcap_, &ps) == 0) {
      received_.store(ps.ps_recv, std::memory_order_relaxed);
      dropped_.store(ps.ps_drop, std::memory_order_relaxed);
      ifdropped_.store(ps.ps_ifdrop, std::memory_order_relaxed);
    }
  }

  // One pcap_dispatch(); false when the loop must end (break or error).
  bool DispatchOnce(int* got) {
    int n = pcap_dispatch(pcap_, -1, &Capture::OnPacket, reinterpret_cast<u_char*>(this));
    *got = n > 0 ? n : 0;
    if (n == PCAP_ERROR_BREAK) return !stop_.load(std::memory_order_acquire);
    if (n == PCAP_ERROR) {
      error_ = std::string("capture on ") + iface_ + " failed: " + pcap_geterr(pcap_);
      return false;
    }
    return true;
  }

  void Run() {
    running_.store(true);
    Clock::time_point lastStats = Clock::now();
    const auto flushEvery = std::chrono::milliseconds(flushMs_);
    const auto statsEvery = std::chrono::milliseconds(statsMs_);
    RefreshStats();
    bool ok = true;
    while (ok && !stop_.load(std::memory_order_acquire)) {
      if (selFd_ >= 0) {
        // Sleep until packets (a retired kernel block), a wake-up, or the next flush/stats deadline.
        Clock::time_point now = Clock::now();
        Clock::time_point due = lastStats + statsEvery;
        if (curPackets_ > 0) due = std::min(due, curStart_ + flushEvery);
        long ms = std::chrono::duration_cast<std::chrono::milliseconds>(due - now).count();
        if (ms < 0) ms = 0;
        struct pollfd fds[2];
        fds[0].fd = selFd_;
        fds[0].events = POLLIN;
        fds[0].revents = 0;
        fds[1].fd = wake_[0];
        fds[1].events = POLLIN;
        fds[1].revents = 0;
        int pr = poll(fds, 2, static_cast<int>(ms) + (ms > 0 ? 1 : 0));
        if (pr < 0 && errno != EINTR) {
          error_ = std::string("capture on ") + iface_ + " failed: poll: " + std::strerror(errno);
          break;
        }
        if (fds[1].revents != 0 || stop_.load(std::memory_order_acquire)) break;
        if (pr > 0 && fds[0].revents != 0) {
          // Drain what is ready (one kernel block per call), bounded so flush/stats still run.
          for (int i = 0; i < 64 && ok; i++) {
            int got = 0;
            ok = DispatchOnce(&got);
            if (got == 0) break;
          }
        }
      } else {
        int got = 0;
        ok = DispatchOnce(&got);
      }
      Clock::time_point now = Clock::now();
      if (curPackets_ > 0 && now - curStart_ >= flushEvery) Flush();
      if (now - lastStats >= statsEvery) {
        RefreshStats();
        lastStats = now;
      }
    }
    if (selFd_ >= 0 && error_.empty()) {
      // Stopping: take what is already in the ring so close() loses nothing it could read.
      // If the kernel counted packets we have not seen, they sit in a kernel block that is
      // not retired yet: wait (at most the read timeout) for it.
      RefreshStats();
      uint64_t seen = captured_.load() + dropped_.load();
      if (received_.load() > seen) {
        struct pollfd pfd;
        pfd.fd = selFd_;
        pfd.events = POLLIN;
        pfd.revents = 0;
        poll(&pfd, 1, static_cast<int>(timeoutMs_) + 20);
      }
      for (int i = 0; i < 1024; i++) {
        int n = pcap_dispatch(pcap_, -1, &Capture::OnPacket, reinterpret_cast<u_char*>(this));
        if (n <= 0) break;
      }
    }
    Flush();
    RefreshStats();
    running_.store(false);
    tsfn_.Release();
  }

  static void OnPacket(u_char* user, const struct pcap_pkthdr* h, const u_char* bytes) {
    Capture* self = reinterpret_cast<Capture*>(user);
    uint32_t caplen = h->caplen;
    uint32_t rec = kRecordHeader + ((caplen + 3u) & ~3u);
    if (rec > self->batchBytes_) {  // cannot happen (batchBytes >= snaplen + header); be safe
      caplen = self->batchBytes_ - kRecordHeader;
      rec = self->batchBytes_;
    }
    if (self->curUsed_ + rec > self->batchBytes_) self->Flush();
    if (self->curPackets_ == 0) self->curStart_ = Clock::now();
    uint8_t* p = self->data_[self->cur_] + self->curUsed_;
    uint32_t hdr[4];
    hdr[0] = static_cast<uint32_t>(h->ts.tv_sec);
    hdr[1] = self->nano_ ? static_cast<uint32_t>(h->ts.tv_usec) : static_cast<uint32_t>(h->ts.tv_usec) * 1000u;
    hdr[2] = caplen;
    hdr[3] = h->len;
    std::memcpy(p, hdr, sizeof hdr);
    std::memcpy(p + kRecordHeader, bytes, caplen);
    self->curUsed_ += rec;
    self->curPackets_++;
    self->captured_.fetch_add(1, std::memory_order_relaxed);
  }

  // Capture thread only: hand the current batch to JS, or drop it (counted) if the
  // pool is exhausted. Never blocks.
  void Flush() {
    if (curPackets_ == 0) return;
    uint32_t next;
    bool haveNext = false;
    {
      std::lock_guard<std::mutex> lk(freeMu_);
      if (!free_.empty()) {
        next = free_.back();
        free_.pop_back();
        haveNext = true;
      }
    }
    if (!haveNext) {
      queueDropped_.fetch_add(curPackets_, std::memory_order_relaxed);
      curUsed_ = 0;
      curPackets_ = 0;
      return;
    }
    BatchMsg* m = &msgs_[cur_];
    m->used = curUsed_;
    m->packets = curPackets_;
    napi_status st = tsfn_.NonBlockingCall(m);
    if (st != napi_ok) {
      // napi_closing: the environment is going away. Count the loss, stop capturing.
      queueDropped_.fetch_add(curPackets_, std::memory_order_relaxed);
      std::lock_guard<std::mutex> lk(freeMu_);
      free_.push_back(next);
      curUsed_ = 0;
      curPackets_ = 0;
      if (st == napi_closing) stop_.store(true);
      return;
    }
    batches_.fetch_add(1, std::memory_order_relaxed);
    cur_ = next;
    curUsed_ = 0;
    curPackets_ = 0;
  }

  std::string iface_;
  pcap_t* pcap_ = nullptr;
  int linktype_ = -1;
  bool nano_ = false;
  uint32_t snaplen_ = 0;
  uint32_t batchBytes_ = 1u << 20;
  uint32_t queueBatches_ = 64;
  uint32_t flushMs_ = 50;
  uint32_t timeoutMs_ = 100;
  uint32_t statsMs_ = 100;
  std::vector<std::string> warnings_;

  // buffer pool (refs_ touched on the JS thread only; data_ is fixed once started)
  std::vector<Napi::Reference<Napi::Buffer<uint8_t>>> refs_;
  std::vector<uint8_t*> data_;
  std::vector<BatchMsg> msgs_;
  std::mutex freeMu_;
  std::vector<uint32_t> free_;

  // capture-thread state
  uint32_t cur_ = 0;
  uint32_t curUsed_ = 0;
  uint32_t curPackets_ = 0;
  Clock::time_point curStart_;
  std::string error_;  // written by the thread before Release(), read in the finalizer

  int selFd_ = -1;
  int wake_[2] = {-1, -1};
  bool started_ = false;
  bool tearingDown_ = false;
  napi_env hookEnv_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> running_{false};
  Tsfn tsfn_;
  Napi::FunctionReference onEnd_;

  std::atomic<uint64_t> received_{0}, dropped_{0}, ifdropped_{0};
  std::atomic<uint64_t> queueDropped_{0}, batches_{0}, captured_{0}, delivered_{0};

  friend void CallJs(Napi::Env, Napi::Function, Capture*, BatchMsg*);
};

void CallJs(Napi::Env env, Napi::Function cb, Capture* ctx, BatchMsg* msg) {
  if (ctx != nullptr && msg != nullptr) ctx->Deliver(env, cb, msg);
}

// findAllDevs() -> [{ name, description, loopback, up, running }]
Napi::Value FindAllDevs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pcap_if_t* devs = nullptr;
  char errbuf[PCAP_ERRBUF_SIZE];
  if (pcap_findalldevs(&devs, errbuf) != 0) {
    MakeError(env, "EPCAP", std::string("pcap_findalldevs: ") + errbuf).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array out = Napi::Array::New(env);
  uint32_t i = 0;
  for (pcap_if_t* d = devs; d != nullptr; d = d->next) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", d->name);
    o.Set("description", d->description != nullptr ? Napi::Value(Napi::String::New(env, d->description)) : env.Null());
    o.Set("loopback", Napi::Boolean::New(env, (d->flags & PCAP_IF_LOOPBACK) != 0));
#ifdef PCAP_IF_UP
    o.Set("up", Napi::Boolean::New(env, (d->flags & PCAP_IF_UP) != 0));
    o.Set("running", Napi::Boolean::New(env, (d->flags & PCAP_IF_RUNNING) != 0));
#endif
    out.Set(i++, o);
  }
  pcap_freealldevs(devs);
  return out;
}

Napi::Value LibVersion(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), pcap_lib_version());
}

// --- Unix datagram sockets, for syslog to /dev/log -------------------------------------
// Node has no AF_UNIX SOCK_DGRAM sockets (libuv has none); the local syslog socket
// (/dev/log: journald or rsyslog imuxsock) is one. These three calls are all the
// syslog sink needs. The socket is non-blocking and unconnected: every send names the
// path, so a restarted syslog daemon (a new socket file) is reached without reopening.
// Send returns 0 or the errno (ECONNREFUSED: nobody listening; ENOENT: no such socket;
// EAGAIN/ENOBUFS: the receiver's queue is full) so the caller can spool and retry.

Napi::Value UnixDgramOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    MakeError(env, "ESOCKET", std::string("socket(AF_UNIX, SOCK_DGRAM): ") + strerror(errno)).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Number::New(env, fd);
}

Napi::Value UnixDgramSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsString() || !info[2].IsBuffer()) {
    MakeError(env, "EINVAL", "unixDgramSend(fd, path, buffer)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  std::string path = info[1].As<Napi::String>().Utf8Value();
  Napi::Buffer<uint8_t> buf = info[2].As<Napi::Buffer<uint8_t>>();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return Napi::Number::New(env, ENAMETOOLONG);
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ssize_t n = sendto(fd, buf.Data(), buf.Length(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  return Napi::Number::New(env, n < 0 ? errno : 0);
}

Napi::Value UnixDgramClose(const Napi::CallbackInfo& info) {
  if (info.Length() > 0 && info[0].IsNumber()) close(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Capture", Capture::Define(env));
  exports.Set("findAllDevs", Napi::Function::New(env, FindAllDevs, "findAllDevs"));
  exports.Set("libVersion", Napi::Function::New(env, LibVersion, "libVersion"));
  exports.Set("unixDgramOpen", Napi::Function::New(env, UnixDgramOpen, "unixDgramOpen"));
  exports.Set("unixDgramSend", Napi::Function::New(env, UnixDgramSend, "unixDgramSend"));
  exports.Set("unixDgramClose", Napi::Function::New(env, UnixDgramClose, "unixDgramClose"));
  return exports;
}

}  // namespace

NODE_API_MODULE(tapwatch_pcap, Init)
