"""The report of a chaos run (bench/chaos.py): what was done to Sluice, and the invariants."""


def _line(label: str, value, ok: bool) -> tuple[str, bool]:
    return f"  {label:.<64} {value}  {'ok' if ok else 'FAILED'}", ok


def report(*, args, outcome, world, stuck, worst, limit, elapsed, kills, expiries, expected) -> int:
    """Print the report; 0 when every invariant holds, 1 otherwise."""
    errcodes, pushes = outcome["errcodes"], outcome["pushes"]
    lost_pushes = pushes.get("dropped", 0)
    states = ", ".join(f"{state} {n}" for state, n in sorted(outcome["states"].items()))
    print()
    releases, workers = outcome["releases"], args.workers
    print(f"Chaos run: {args.apps} apps, {releases} releases, {workers} workers, {elapsed:.0f} s")
    print(
        f"  WeChat calls: {outcome['calls']}, of which {errcodes.get(-1, 0)} answered -1 (busy, "
        f"{args.error_rate}% injected) and {errcodes.get(42001, 0)} 42001 (token expired; all tokens "
        f"expired {expiries} times)"
    )
    print(
        f"  Audit pushes: {sum(pushes.values())}, {lost_pushes} lost on purpose ({args.lost_pushes}%), "
        f"{pushes.get('failed', 0)} failed, {pushes.get('pending', 0)} never delivered (job killed)"
    )
    print(f"  Workers killed with SIGKILL: {kills[0]} ({kills[1]} in the middle of a job)")
    print(
        f"  Release managers: {dict(world.actions)}; steps given up after their retries: "
        f"{outcome['gave_up']}, retried: {world.retries}"
    )
    print(f"  End states: {states}")
    print()
    lines = [
        _line(
            "releases through the simulator",
            f"{outcome['through']}/{expected}",
            outcome["through"] >= expected,
        ),
        _line("double submissions", len(outcome["double"]), not outcome["double"]),
        _line("lost audit ids", len(outcome["lost"]), not outcome["lost"]),
        _line(
            f"stuck past the sweep interval ({limit} s; longest unattended {worst:.1f} s)",
            len(stuck) + len(outcome["in_flight"]),
            not stuck and not outcome["in_flight"],
        ),
        _line("not in the state the simulator decided", len(outcome["wrong"]), not outcome["wrong"]),
        _line("85009 answers (a second submit_audit)", errcodes.get(85009, 0), not errcodes.get(85009)),
        _line("87012 answers (a second rollback)", errcodes.get(87012, 0), not errcodes.get(87012)),
        _line(
            "audit hash chain",
            "intact" if outcome["audit_ok"] else f"broken at {outcome['audit_broken_at']}",
            outcome["audit_ok"],
        ),
    ]
    print("Invariants")
    for text, _ in lines:
        print(text)
    for release, state, expected_state in outcome["wrong"][:10]:
        print(f"    {release.app.appid} {release.version}: {state}, the simulator says {expected_state}")
    for release in outcome["double"][:10]:
        print(f"    submitted twice: {release.app.appid} {release.version}")
    passed = all(ok for _, ok in lines)
    print(f"RESULT: {'PASS' if passed else 'FAIL'}")
    return 0 if passed else 1
