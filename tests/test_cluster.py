"""bench/cluster.sh at small scale (its module, bench/cluster.py, does
the work for both): two postern nodes, each a whole instance in network
and mount namespaces of its own, behind Debian's haproxy (`balance
source`, `hash-type consistent`, `send-proxy-v2`, health checks), fed
from four source addresses. Each source stays on one node, and the node
names the real source (PROXY header), not the balancer, in its log and
Received line; a node killed with kill -9 mid-run: the balancer moves its
sources, clients retry what got no 250, and once the node is started
again every message that got a 250 is delivered. Needs root and a
working `ip netns` (skipped otherwise), and `make clusterbins`."""
import os
import re
import sys
import unittest

import harness

sys.path.insert(0, os.path.join(harness.TOP, "bench"))
import cluster  # noqa: E402

WHY = cluster.usable()
NODES, SOURCES = 2, 4


@unittest.skipIf(WHY, f"no cluster here: {WHY}")
class ClusterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.c = cluster.Cluster(NODES, SOURCES, base=os.path.join(harness.TOP, "build", "cluster-test"))
        try:
            cls.c.up()
        except BaseException:
            cls.c.down()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.c.down()

    def test_each_source_stays_on_one_node_that_sees_its_address(self):
        c = self.c
        c.use(NODES)
        since = c.log_sizes()
        r = c.send(8, 2, deadline=90)        # 8 from each source, 2 at once
        ok = [x["id"] for x in r["results"] if x["ok"]]
        self.assertEqual(len(ok), 8 * SOURCES, r["results"])
        found, _ = c.wait_delivered(r["tag"], ok, 120)
        self.assertEqual(sorted(found), sorted(ok))
        served = c.served(since)
        self.assertEqual(sorted(served), sorted(c.sources))
        nodes = {}
        for src, seen in served.items():
            # every session of a source on one node, through the balancer
            self.assertEqual(len(seen), 8, (src, seen))
            self.assertEqual({i for i, _ in seen}.__len__(), 1, (src, seen))
            self.assertEqual({b for _, b in seen}, {cluster.BALANCER}, (src, seen))
            nodes[src] = seen[0][0]
        self.assertEqual(set(nodes.values()), set(range(1, NODES + 1)), nodes)
        # each message was queued and delivered by its source's node
        for x in r["results"]:
            self.assertEqual(found[x["id"]], [nodes[x["src"]]], x)
        # the Received line names the source, not the balancer
        src = c.sources[0]
        node, line = c.received(r["tag"], cluster.message_id(r["tag"], src, 0))
        self.assertEqual(node, nodes[src])
        self.assertTrue(line.startswith(f"Received: from client.test ({src}"), line)
        self.assertNotIn(cluster.BALANCER, line)

    def test_killed_node_loses_nothing_that_got_250(self):
        c = self.c
        # the victim's send is down from the start: what it accepts
        # waits in its queue when it is killed
        k = cluster.kill_run(c, 16 * SOURCES, 2, hold=True)
        v = k["victim"]
        self.assertGreater(k["killed"], 5)   # s6-svscan, supervisors, smtpd-listen, ...
        self.assertIn(f"n{v} is DOWN", k["halog"])
        self.assertGreater(k["waiting_at_restart"], 0, "the kill found nothing queued: it proves nothing")
        self.assertEqual(k["no_250"], 0, k["results"])
        self.assertEqual(k["missing"], [])
        # the victim's sources went to the other node after the kill;
        # the others never moved (consistent hashing)
        other = 3 - v
        moved = [s for s, node in k["first"].items() if node == f"node{v}"]
        self.assertTrue(moved)
        for src, seen in k["served"].items():
            nodes = [i for i, _ in seen]
            if src in moved:
                self.assertEqual(nodes[-1], other, (src, nodes))
                self.assertEqual(sorted(set(nodes)), [1, 2], (src, nodes))
            else:
                self.assertEqual(set(nodes), {other}, (src, nodes))
        # every message that got a 250 on the victim is in its Maildir now
        for x in k["results"]:
            self.assertIn(x["id"], k["found"])
        print(f"\n  killed node{v}: {k['waiting_at_restart']} queued there delivered after its restart, "
              f"{k['retried']} retried, {k['duplicates']} duplicates", file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
