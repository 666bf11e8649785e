"""benchmarks/micro/conv_in_loop.py: the forms XLA compiles a convolution gradient to."""

from benchmarks.micro.conv_in_loop import convolution_forms, gradient_steps


def test_the_canonical_gradient_compiles_inside_a_loop_to_the_form_it_has_outside():
    """What jaxgp's CPU convolutions are for (RESULTS.md section 1): inside a `fori_loop`
    XLA's CPU backend keeps JAX's gradient convolutions in a layout its fast kernels do not
    take (jax-ml/jax#12868), but jaxgp's canonical form in the one it uses outside."""
    one_step, in_loop, w0 = gradient_steps("canonical", (2, 8, 8, 2, 4), steps=2)
    outside = convolution_forms(one_step, w0)
    assert outside == ["b01f_01io->b01f"]
    assert convolution_forms(in_loop, w0) == outside
