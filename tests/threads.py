"""Running one test function in several threads at once."""
import threading


def run_together(target, count):
    """Start target(0) .. target(count - 1) in threads at once and wait for all of them."""
    threads = [threading.Thread(target=target, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
