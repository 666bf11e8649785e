"""Hypothesis strategies for trees: random trees drawn from seeds through the library."""

from hypothesis import strategies as st

from jaxgp.expr.generate import (
    DEFAULT_TREE_CONFIG,
    TreeConfig,
    as_generator,
    random_subtree,
    random_tree,
)

seeds = st.integers(min_value=0, max_value=2**32 - 1)


@st.composite
def any_trees(draw, max_height: int = 6):
    """Any tree (no leaf or validity requirement), grow or full."""
    rng = as_generator(draw(seeds))
    height = draw(st.integers(0, max_height))
    return random_subtree(rng, height=height, full=draw(st.booleans()))


@st.composite
def structural_trees(draw, config: TreeConfig = DEFAULT_TREE_CONFIG):
    """Trees with both leaves within the caps (no validity filter: that needs JAX)."""
    return random_tree(draw(seeds), config=config, require_valid=False)
