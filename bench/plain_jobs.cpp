/* plain_jobs.cpp — the wide-job benchmark's baseline: a rigid parallel-job log (SWF) replayed
 * by a minimal program on SimGrid's s4u API alone (no xpuopt), with FCFS or EASY.
 *
 *   plain_jobs fcfs|easy PLATFORM LOG.swf
 *
 * The platform's first host is the machine: a job of width w is ONE execution of w threads
 * on it (Exec::set_thread_count; the flop amount is per thread), lasting its logged run
 * time at the host's speed. One scheduler actor keeps the waiting queue in submit order;
 * each started job runs in a runner actor (reused once idle), which releases a semaphore
 * when the job ends.
 *   fcfs: start the head while it fits.
 *   easy: then reserve for the head the earliest time enough processors free up (the
 *         shadow time, from the running jobs' logged run times), and start any later job
 *         that fits now and ends by the shadow time or uses only the processors the head
 *         leaves spare (Lifka 1995; Mu'alem and Feitelson 2001).
 * Prints `key value` lines: jobs, makespan_s, mean_wait_s, wall_s, jobs_per_s. */
#include <simgrid/s4u.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <vector>

namespace sg4 = simgrid::s4u;

namespace
{

struct job {
	double submit, run;
	int width;
	double start = -1;
};

std::vector<job> jobs;
bool easy;
sg4::Host *machine;
int free_procs;
sg4::SemaphorePtr ended;   /* one release per finished job */
std::vector<int> finished; /* jobs ended but not yet accounted by the scheduler */
double makespan;

/* Job runners are reused: an idle one waits on its semaphore for the next job. */
struct runner {
	sg4::SemaphorePtr go = sg4::Semaphore::create(0);
	int job = -1;
};
std::vector<runner *> idle;

void run_jobs(runner *r)
{
	for (;;) {
		r->go->acquire();
		job &j = jobs[r->job];
		sg4::this_actor::exec_init(j.run * machine->get_speed())
		    ->set_thread_count(j.width)
		    ->wait();
		finished.push_back(r->job);
		idle.push_back(r);
		ended->release();
	}
}

void start(int i)
{
	jobs[i].start = sg4::Engine::get_clock();
	free_procs -= jobs[i].width;
	runner *r;
	if (idle.empty()) {
		r = new runner;
		sg4::Actor::create("job", machine, run_jobs, r)->daemonize();
	} else {
		r = idle.back();
		idle.pop_back();
	}
	r->job = i;
	r->go->release();
}

/* Running jobs by expected end, for EASY's shadow time. */
std::vector<int> running;

void schedule(std::deque<int> &queue)
{
	while (!queue.empty() && jobs[queue.front()].width <= free_procs) {
		running.push_back(queue.front());
		start(queue.front());
		queue.pop_front();
	}
	if (!easy || queue.empty())
		return;
	/* Shadow time: walk running jobs by expected end until the head fits. */
	double now = sg4::Engine::get_clock();
	std::vector<std::pair<double, int>> ends;
	ends.reserve(running.size());
	for (int r : running)
		ends.emplace_back(jobs[r].start + jobs[r].run, jobs[r].width);
	std::sort(ends.begin(), ends.end());
	int avail = free_procs, need = jobs[queue.front()].width;
	double shadow = INFINITY;
	int extra = 0;
	for (auto &e : ends) {
		avail += e.second;
		if (avail >= need) {
			shadow = e.first;
			extra = avail - need;
			break;
		}
	}
	for (auto it = queue.begin() + 1; it != queue.end() && free_procs > 0;) {
		job &j = jobs[*it];
		bool fits = j.width <= free_procs;
		bool by_shadow = now + j.run <= shadow;
		if (fits && (by_shadow || j.width <= extra)) {
			if (!by_shadow)
				extra -= j.width;
			running.push_back(*it);
			start(*it);
			it = queue.erase(it);
		} else {
			++it;
		}
	}
}

void scheduler()
{
	std::deque<int> queue;
	size_t next = 0, done = 0;
	while (done < jobs.size()) {
		double now = sg4::Engine::get_clock();
		while (next < jobs.size() && jobs[next].submit <= now)
			queue.push_back((int)next++);
		schedule(queue);
		double until = next < jobs.size() ? jobs[next].submit : INFINITY;
		bool timeout = std::isinf(until) ? (ended->acquire(), false)
		                                 : ended->acquire_timeout(until - now);
		if (timeout)
			continue;
		/* One release per job: account every job ended by now, and take the releases
		 * of all but the one already acquired. */
		size_t k = finished.size();
		for (int i : finished) {
			free_procs += jobs[i].width;
			running.erase(std::find(running.begin(), running.end(), i));
			done++;
		}
		finished.clear();
		for (size_t x = 1; x < k; x++)
			ended->acquire_timeout(0);
	}
	makespan = sg4::Engine::get_clock();
}

int read_swf(const char *path, int max_width)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		return -1;
	}
	char line[4096];
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == ';' || line[0] == '\n')
			continue;
		double v[18];
		char *p = line;
		int n = 0;
		for (; n < 18; n++) {
			char *end;
			v[n] = strtod(p, &end);
			if (end == p)
				break;
			p = end;
		}
		if (n < 18)
			continue;
		int width = (int)(v[4] > 0 ? v[4] : v[7] > 0 ? v[7] : 1);
		if (width > max_width)
			width = max_width;
		jobs.push_back(job{v[1], v[3] > 0 ? v[3] : 0, width});
	}
	fclose(f);
	std::stable_sort(jobs.begin(), jobs.end(),
	                 [](const job &a, const job &b) { return a.submit < b.submit; });
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	auto t0 = std::chrono::steady_clock::now();
	if (argc != 4 || (strcmp(argv[1], "fcfs") && strcmp(argv[1], "easy"))) {
		fprintf(stderr, "usage: plain_jobs fcfs|easy PLATFORM LOG.swf\n");
		return 2;
	}
	easy = !strcmp(argv[1], "easy");
	sg4::Engine e(&argc, argv);
	sg4::Engine::set_config("network/model:CM02");
	e.load_platform(argv[2]);
	machine = e.get_all_hosts().front();
	free_procs = machine->get_core_count();
	if (read_swf(argv[3], free_procs) < 0)
		return 1;
	ended = sg4::Semaphore::create(0);
	sg4::Actor::create("scheduler", machine, scheduler);
	e.run();
	double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
	double wait = 0;
	for (auto &j : jobs)
		wait += j.start - j.submit;
	printf("jobs %zu\nmakespan_s %.9g\nmean_wait_s %.9g\nwall_s %.3f\njobs_per_s %.0f\n",
	       jobs.size(), makespan, jobs.empty() ? 0 : wait / jobs.size(), wall,
	       jobs.size() / wall);
	return 0;
}
