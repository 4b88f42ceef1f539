from ai_conductor._graph import find_cycle, topological_order


def test_topological_order_respects_dependencies() -> None:
    graph = {"d": ["b", "c"], "b": ["a"], "c": ["a"], "a": []}
    order = topological_order(graph)
    assert order.index("a") < order.index("b") < order.index("d")
    assert order.index("c") < order.index("d")
    assert sorted(order) == ["a", "b", "c", "d"]


def test_find_cycle_none_and_deep_chain() -> None:
    chain = {f"t{i}": [f"t{i - 1}"] if i else [] for i in range(5000)}
    assert find_cycle(chain) is None
    chain["t0"] = ["t4999"]
    cycle = find_cycle(chain)
    assert cycle is not None
    assert cycle[0] == cycle[-1]
    assert len(cycle) == 5001
