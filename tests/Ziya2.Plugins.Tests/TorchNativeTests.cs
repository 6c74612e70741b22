using TorchSharp;
using static TorchSharp.torch;

namespace Ziya2.Plugins.Tests;

/// <summary>Proves the build-time libLibTorchSharp patch: without it every torch call fails on Debian 12.</summary>
public class TorchNativeTests
{
    [Fact]
    public void Tensor_operations_run_on_this_machine()
    {
        using var a = tensor(new float[] { 1, 2, 3, 4 }).reshape(2, 2);
        using var b = a.matmul(a);
        Assert.Equal(new float[] { 7, 10, 15, 22 }, b.data<float>().ToArray());
        Assert.StartsWith("2.10", torch.__version__);
    }

    [Fact]
    public void Bf16_matmul_and_backward_work()
    {
        using var scope = NewDisposeScope();
        var w = randn(8, 8, requires_grad: true);
        var y = w.to_type(ScalarType.BFloat16).matmul(ones(8, 8, dtype: ScalarType.BFloat16)).sum();
        y.backward();
        Assert.Equal(ScalarType.Float32, w.grad!.dtype);
        Assert.Equal(8.0f, w.grad!.mean().item<float>(), 2);
    }
}
