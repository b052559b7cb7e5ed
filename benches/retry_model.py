"""The best finishing time of `retry_some_fail_1000x5ms_w16` (benches/failure.rs).

A discrete-event model of the schedule the retrying maps follow: 16 workers;
a free worker goes first to a due retry, then to a new item, and a new item
is taken only while fewer than `bound` items are held (taken and not yet
yielded; API.md: 2 x workers = 32). Every tenth item fails its first two
attempts at once and waits 20 ms, then 40 ms, holding no worker; every other
attempt takes 5 ms; an output is yielded as soon as it is ready.

    python3 benches/retry_model.py
"""

import heapq


def finish_time(bound, workers=16, items=1000, work=5.0):
    t = 0.0
    taken = held = done = 0
    running = []  # finishing times
    backing_off = []  # (due, item)
    attempts = {}

    def start(i):
        attempts[i] = attempts.get(i, 0) + 1
        if i % 10 == 0 and attempts[i] <= 2:
            heapq.heappush(backing_off, (t + (20 if attempts[i] == 1 else 40), i))
        else:
            heapq.heappush(running, t + work)

    while done < items:
        while len(running) < workers:
            if backing_off and backing_off[0][0] <= t:
                start(heapq.heappop(backing_off)[1])
            elif taken < items and held < bound:
                start(taken)
                taken += 1
                held += 1
            else:
                break
        t = min(q[0] if q is running else q[0][0] for q in (running, backing_off) if q)
        while running and running[0] <= t:
            heapq.heappop(running)
            done += 1
            held -= 1
    return t


if __name__ == "__main__":
    print(f"at most 2 x workers held (API.md): {finish_time(32):.1f} ms")
    print(f"no bound on items held:            {finish_time(10**9):.1f} ms")
