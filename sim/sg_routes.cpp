/* sg_routes.cpp — routes between two hosts, asked of SimGrid one pair at a time and only
 * when that is safe.
 *
 * SimGrid 3.32 answers a route query for a pair its platform does not connect in one of
 * three ways, depending on the zone: an empty route (a Full zone with other routes), a
 * C++ exception (a missing <zoneRoute>, a Floyd zone), or a crash it cannot recover
 * from: a null dereference in any table-routed zone (Full, Floyd, Dijkstra) that got no
 * route at all, an assertion in a Dijkstra zone. Before asking, this file therefore
 * replays SimGrid's recursive lookup (common ancestor zone, then the gateways of the
 * zone routes down to each host) over the routes the platform declared, recorded as
 * SimGrid created them (NetZoneImpl::on_route_creation), and asks only when every
 * local step of the lookup has a declared route; the query itself runs under a catch
 * of every exception. A pair the platform does not connect is "no route" (bandwidth 0),
 * never a crash. Zones that generate their routes (Cluster, Star, Torus, Fat-Tree,
 * Dragonfly, Vivaldi, Wi-Fi) are taken to connect every pair they hold.
 */
#include <simgrid/kernel/routing/NetPoint.hpp>
#include <simgrid/kernel/routing/NetZoneImpl.hpp>
#include <simgrid/s4u.hpp>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <map>
#include <set>
#include <typeinfo>
#include <unordered_map>
#include <vector>

using simgrid::kernel::routing::NetPoint;
using simgrid::kernel::routing::NetZoneImpl;

extern "C" {
void xpu_sg_routes_record(void);
int xpu_sg_route(sg_host_t src, sg_host_t dst, double *latency, double *bandwidth);
}

namespace
{

struct declared {
	const NetPoint *dst;
	const NetPoint *gw_src, *gw_dst;
};

/* Per zone, the routes declared in it: by source, each with its destination and, for
 * routes between sub-zones, the gateways. Symmetrical routes are stored both ways
 * (gateways swapped), as SimGrid does. */
struct zone_routes {
	std::unordered_map<const NetPoint *, std::vector<declared>> from;
	size_t count = 0;
};

std::unordered_map<const NetZoneImpl *, zone_routes> routes;
bool recording;

/* The lowest zone holding both netpoints, and the netpoints standing for them in it:
 * each itself, or the child zone that holds it. */
std::vector<const NetZoneImpl *> chain(const NetPoint *p);
const NetPoint *in_zone(const NetPoint *p, const std::vector<const NetZoneImpl *> &ch,
                        const NetZoneImpl *c);

const NetZoneImpl *common_zone(const NetPoint *a, const NetPoint *b, const NetPoint **a_in,
                               const NetPoint **b_in)
{
	auto ca = chain(a), cb = chain(b);
	std::set<const NetZoneImpl *> in_b(cb.begin(), cb.end());
	for (const NetZoneImpl *z : ca)
		if (in_b.count(z)) {
			*a_in = in_zone(a, ca, z);
			*b_in = in_zone(b, cb, z);
			return z;
		}
	return nullptr;
}

void on_route(bool symmetrical, NetPoint *src, NetPoint *dst, NetPoint *gw_src, NetPoint *gw_dst,
              std::vector<simgrid::kernel::resource::StandardLinkImpl *> const &)
{
	/* A route is declared in the lowest zone that holds both ends; between sub-zones,
	 * SimGrid names the ends by their gateways. */
	const NetPoint *s = nullptr, *d = nullptr;
	const NetZoneImpl *z = common_zone(src, dst, &s, &d);
	if (!z)
		return;
	zone_routes &r = routes[z];
	r.from[s].push_back({d, gw_src ? gw_src : src, gw_dst ? gw_dst : dst});
	r.count++;
	if (symmetrical) {
		r.from[d].push_back({s, gw_dst ? gw_dst : dst, gw_src ? gw_src : src});
		r.count++;
	}
}

enum class kind { full, graph, generated, empty };

/* The zone's routing, from its class (the classes are private to SimGrid, their
 * names are not). */
kind kind_of(const NetZoneImpl *z)
{
	const char *n = typeid(*z).name();
	if (strstr(n, "FullZone"))
		return kind::full;
	if (strstr(n, "FloydZone") || strstr(n, "DijkstraZone"))
		return kind::graph;
	if (strstr(n, "EmptyZone"))
		return kind::empty;
	return kind::generated;
}

const zone_routes *routes_of(const NetZoneImpl *z)
{
	auto it = routes.find(z);
	return it == routes.end() ? nullptr : &it->second;
}

/* The declared route s -> d in a Full zone, or nullptr. */
const declared *full_route(const NetZoneImpl *z, const NetPoint *s, const NetPoint *d)
{
	const zone_routes *r = routes_of(z);
	if (!r)
		return nullptr;
	auto it = r->from.find(s);
	if (it == r->from.end())
		return nullptr;
	for (const declared &x : it->second)
		if (x.dst == d)
			return &x;
	return nullptr;
}

/* A path s -> d over the routes declared in a Floyd or Dijkstra zone (breadth first).
 * Returns the gateways of its first and last hops through *first and *last. */
bool graph_path(const NetZoneImpl *z, const NetPoint *s, const NetPoint *d, const declared **first,
                const declared **last)
{
	const zone_routes *r = routes_of(z);
	if (!r)
		return false;
	std::unordered_map<const NetPoint *, const declared *> via; /* hop that reached it */
	std::unordered_map<const NetPoint *, const NetPoint *> prev;
	std::deque<const NetPoint *> q{s};
	prev[s] = nullptr;
	while (!q.empty()) {
		const NetPoint *p = q.front();
		q.pop_front();
		if (p == d)
			break;
		auto it = r->from.find(p);
		if (it == r->from.end())
			continue;
		for (const declared &x : it->second)
			if (!prev.count(x.dst)) {
				prev[x.dst] = p;
				via[x.dst] = &x;
				q.push_back(x.dst);
			}
	}
	if (!prev.count(d))
		return false;
	*last = via[d];
	const NetPoint *p = d;
	while (prev[p] != s)
		p = prev[p];
	*first = via[p];
	return true;
}

/* SimGrid 3.32's Dijkstra zones abort on any query once one of their points has no
 * route at all: such a zone is taken to connect nothing. */
bool graph_usable(const NetZoneImpl *z)
{
	if (!strstr(typeid(*z).name(), "DijkstraZone"))
		return true;
	const zone_routes *r = routes_of(z);
	if (!r)
		return false;
	std::set<const NetPoint *> seen;
	for (auto const &kv : r->from) {
		seen.insert(kv.first);
		for (const declared &x : kv.second)
			seen.insert(x.dst);
	}
	for (const NetPoint *v : z->get_vertices())
		if (!seen.count(v))
			return false;
	return true;
}

/* The chain of zones from a netpoint's zone up to the root. */
std::vector<const NetZoneImpl *> chain(const NetPoint *p)
{
	std::vector<const NetZoneImpl *> c;
	for (const NetZoneImpl *z = p->get_englobing_zone(); z; z = z->get_parent())
		c.push_back(z);
	return c;
}

/* In zone c, the netpoint standing for p: p itself, or the child zone of c holding it. */
const NetPoint *in_zone(const NetPoint *p, const std::vector<const NetZoneImpl *> &ch,
                        const NetZoneImpl *c)
{
	if (p->get_englobing_zone() == c)
		return p;
	for (size_t i = 0; i + 1 < ch.size(); i++)
		if (ch[i + 1] == c)
			return ch[i]->get_netpoint();
	return p;
}

/* Would SimGrid find a route src -> dst without crashing? depth bounds the gateway
 * recursion on malformed platforms. */
bool connected(const NetPoint *src, const NetPoint *dst, int depth)
{
	if (src == dst)
		return true;
	if (depth > 64)
		return false;
	const NetPoint *s = nullptr, *d = nullptr;
	const NetZoneImpl *common = common_zone(src, dst, &s, &d);
	if (!common)
		return false;
	const NetPoint *gw_s = nullptr, *gw_d = nullptr;
	switch (kind_of(common)) {
	case kind::empty:
		return false;
	case kind::generated:
		return true; /* hosts in a generated zone, or zones below it: trust SimGrid */
	case kind::full: {
		const declared *r = full_route(common, s, d);
		if (!r)
			return false;
		gw_s = r->gw_src;
		gw_d = r->gw_dst;
		break;
	}
	case kind::graph: {
		const declared *first = nullptr, *last = nullptr;
		if (!graph_usable(common) || !graph_path(common, s, d, &first, &last))
			return false;
		gw_s = first->gw_src;
		gw_d = last->gw_dst;
		break;
	}
	}
	/* Between sub-zones, SimGrid routes each end to its gateway inside its zone. */
	if (s != src && (!gw_s || !connected(src, gw_s, depth + 1)))
		return false;
	if (d != dst && (!gw_d || !connected(gw_d, dst, depth + 1)))
		return false;
	return true;
}

} // namespace

/* Start recording the routes SimGrid creates; call before loading the platform. */
void xpu_sg_routes_record(void)
{
	if (recording)
		return;
	recording = true;
	NetZoneImpl::on_route_creation.connect(on_route);
}

/* Latency (s) and bottleneck bandwidth (bytes/s) of the route src -> dst. Returns 0,
 * or 1 with *bandwidth 0 when the platform does not connect them. */
int xpu_sg_route(sg_host_t src, sg_host_t dst, double *latency, double *bandwidth)
{
	*latency = 0;
	*bandwidth = 0;
	if (!connected(src->get_netpoint(), dst->get_netpoint(), 0))
		return 1;
	try {
		std::vector<simgrid::s4u::Link *> links;
		double lat = 0;
		src->route_to(dst, links, &lat);
		if (links.empty())
			return 1;
		double bw = INFINITY;
		for (const simgrid::s4u::Link *l : links)
			bw = std::min(bw, l->get_bandwidth());
		if (!(bw > 0) || !std::isfinite(bw))
			return 1;
		*latency = lat;
		*bandwidth = bw;
		return 0;
	} catch (...) {
		return 1;
	}
}
