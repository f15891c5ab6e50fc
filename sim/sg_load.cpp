/* sg_load.cpp — the few SimGrid calls that need C++: loading a platform and running the
 * simulation without letting an exception end the process, and host creation hooks.
 *
 * SimGrid reports a malformed platform file by throwing (simgrid::ParseError or another
 * std::exception). From C such an exception cannot be caught: it would unwind through
 * C frames and call std::terminate, so a typo in a user's file would abort xpuopt
 * instead of printing "FILE:LINE: ...". Every call that may throw is wrapped here and
 * turned into a message. A few problems make SimGrid abort outright (a missing file, a
 * wattage_per_state whose group count differs from the P-state count); those are
 * detected before SimGrid acts on them: the caller checks the file, and a host hook,
 * connected ahead of the energy plugin's own, validates each host as it is sealed and
 * rejects it by throwing, which ends the parse cleanly.
 */
#include <simgrid/s4u.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

/* The C side's view of these functions (sim/simgrid.c declares the same). */
extern "C" {
struct xpu_sg_hooks {
	/* Called for each host as SimGrid seals it, in creation (file) order. Returns 0,
	 * or nonzero to reject the platform (the callee keeps its own message). */
	int (*host)(void *ctx, sg_host_t host);
	/* Called for each link at creation with its wattage_range property (or NULL). */
	int (*link)(void *ctx, const char *name, const char *wattage_range);
	void *ctx;
};

void xpu_sg_connect_hooks(void);
int xpu_sg_load_platform(const char *path, const struct xpu_sg_hooks *hooks, char *msg, size_t len,
                         int *line);
int xpu_sg_run(char *msg, size_t len);
int xpu_sg_host_prop_names(sg_host_t host, const char ***names);
void xpu_sg_execute_threads(double flops_per_thread, int threads);
sg_disk_t xpu_sg_memory_disk(sg_host_t host, const char *name, double bytes_per_s);
void xpu_sg_execute_streaming(double flops_per_thread, int threads, sg_disk_t disk, double bytes);
}

namespace
{

/* Thrown by a hook to stop the parse; its message is already with the caller. */
struct hook_reject : std::exception {
	const char *what() const noexcept override
	{
		return "rejected by xpuopt";
	}
};

const xpu_sg_hooks *active_hooks;
bool hooks_connected;

void set_msg(char *msg, size_t len, const char *text)
{
	if (msg && len)
		snprintf(msg, len, "%s", text);
}

} // namespace

/* Connects the host and link hooks. Call it after simgrid_init and before the energy
 * plugins are initialised: SimGrid calls a signal's callbacks in connection order, and
 * ours must see a host before the energy plugin parses (and may abort on) its
 * wattage. Signals cannot be disconnected in SimGrid 3.32, so the hooks are connected
 * once and consult whichever table xpu_sg_load_platform made active. */
void xpu_sg_connect_hooks(void)
{
	if (hooks_connected)
		return;
	hooks_connected = true;
	simgrid::s4u::Host::on_creation_cb([](simgrid::s4u::Host &h) {
		if (active_hooks && active_hooks->host && active_hooks->host(active_hooks->ctx, &h))
			throw hook_reject();
	});
	simgrid::s4u::Link::on_creation_cb([](simgrid::s4u::Link &l) {
		if (active_hooks && active_hooks->link &&
		    active_hooks->link(active_hooks->ctx, l.get_cname(),
		                       l.get_property("wattage_range")))
			throw hook_reject();
	});
}

/* Returns 0; 1 when a hook rejected a host or link (its message is the caller's);
 * -EINVAL with msg, and *line when SimGrid named one, for any other error. */
int xpu_sg_load_platform(const char *path, const struct xpu_sg_hooks *hooks, char *msg, size_t len,
                         int *line)
{
	*line = 0;
	xpu_sg_connect_hooks();
	active_hooks = hooks;
	try {
		simgrid::s4u::Engine::get_instance()->load_platform(path);
	} catch (const hook_reject &) {
		active_hooks = nullptr;
		return 1;
	} catch (const std::exception &e) {
		active_hooks = nullptr;
		/* ParseError reads "Parse error at FILE:LINE: WHAT"; keep WHAT and LINE. */
		std::string w = e.what();
		std::string head = std::string("Parse error at ") + path + ":";
		if (w.compare(0, head.size(), head) == 0) {
			char *end;
			long l = strtol(w.c_str() + head.size(), &end, 10);
			if (end != w.c_str() + head.size() && end[0] == ':') {
				*line = (int)l;
				w = end + 1 + (end[1] == ' ');
			}
		}
		set_msg(msg, len, w.c_str());
		return -EINVAL;
	} catch (...) {
		active_hooks = nullptr;
		set_msg(msg, len, "SimGrid failed to load the platform (unknown error)");
		return -EINVAL;
	}
	active_hooks = nullptr;
	return 0;
}

/* Runs the simulation to its end. Returns 0, or -EINVAL with msg if SimGrid threw. */
int xpu_sg_run(char *msg, size_t len)
{
	try {
		simgrid::s4u::Engine::get_instance()->run();
	} catch (const std::exception &e) {
		set_msg(msg, len, e.what());
		return -EINVAL;
	} catch (...) {
		set_msg(msg, len, "SimGrid stopped with an unknown error");
		return -EINVAL;
	}
	return 0;
}

/* The names of a host's properties, sorted so that checks report in a stable order
 * (SimGrid keeps them in a hash map). *names is malloc'd, its strings are SimGrid's
 * and live as long as the host. Returns the count, or -ENOMEM. */
int xpu_sg_host_prop_names(sg_host_t host, const char ***names)
{
	*names = nullptr;
	const auto *props = host->get_properties();
	size_t n = props ? props->size() : 0;
	auto **v = static_cast<const char **>(calloc(n + 1, sizeof(char *)));
	if (!v)
		return -ENOMEM;
	size_t i = 0;
	if (props)
		for (auto const &kv : *props)
			v[i++] = kv.first.c_str();
	std::sort(v, v + n, [](const char *a, const char *b) { return strcmp(a, b) < 0; });
	*names = v;
	return (int)n;
}

/* One execution of `threads` threads on the calling actor's host, each doing
 * flops_per_thread: a parallel job occupies that many cores of the host as a single
 * SimGrid action (s4u's Exec::set_thread_count; the C API of 3.32 has no equivalent).
 * Called from a worker actor only. */
void xpu_sg_execute_threads(double flops_per_thread, int threads)
{
	simgrid::s4u::this_actor::exec_init(flops_per_thread)->set_thread_count(threads)->wait();
}

/* A memory shared by several units (unified memory of a SoC), as a disk of bandwidth
 * bytes/s on host: each task that streams through the memory reads its bytes from this
 * disk while it computes, and SimGrid shares the disk's bandwidth between the reads in
 * progress at each instant, so a task's memory time stretches and shrinks as others
 * start and end. NULL when SimGrid refuses it. */
sg_disk_t xpu_sg_memory_disk(sg_host_t host, const char *name, double bytes_per_s)
{
	try {
		return host->create_disk(name, bytes_per_s, bytes_per_s)->seal();
	} catch (const std::exception &) {
		return nullptr;
	}
}

/* A task on a unit of a shared memory: its computation (flops_per_thread on `threads`
 * cores, bounded below by the unit's own memory bandwidth, see launch_amount) and its
 * traffic through the memory (bytes read from disk) run together, and it ends when both
 * have. While only the traffic is left, the cores stay busy (a core stalled on memory
 * draws its load power): an execution that cannot end first holds them and is cancelled
 * when the traffic is done. Called from a worker actor only. */
void xpu_sg_execute_streaming(double flops_per_thread, int threads, sg_disk_t disk, double bytes)
{
	namespace s4u = simgrid::s4u;
	/* a read is a whole number of bytes below 2^64; past 2^62 (4.6 EB, 1.5 years of
	 * one 100 GB/s memory) the share is modelled on 2^62 bytes, and the execution,
	 * sized to the whole traffic at the unit's own bandwidth, still takes its time */
	double whole = bytes < 1 ? 1 : bytes > 0x1p62 ? 0x1p62 : bytes;
	s4u::IoPtr io = disk->read_async(static_cast<sg_size_t>(whole));
	s4u::this_actor::exec_init(flops_per_thread)->set_thread_count(threads)->wait();
	if (io->test())
		return;
	/* 1e300 flops outlasts any read at any speed SimGrid can represent */
	s4u::ExecPtr stall = s4u::this_actor::exec_init(1e300)->set_thread_count(threads)->start();
	io->wait();
	stall->cancel();
}
