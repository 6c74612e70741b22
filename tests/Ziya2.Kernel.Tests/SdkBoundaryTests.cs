using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Ziya2.Kernel.Tests;

/// <summary>
/// The SDK split holds in the built assemblies: the torch-free SDK, the data factory and every text plugin compile
/// against no tensor stack (no reference to TorchSharp or the tensor SDK, no TorchSharp in a plugin's folder), while
/// model and optimizer plugins reach the tensor contracts through Ziya2.Abstractions.Tensors.
/// </summary>
public class SdkBoundaryTests
{
    static readonly string Configuration = typeof(SdkBoundaryTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "Configuration").Value!;

    static IReadOnlyList<string> References(string dll)
    {
        Assert.True(File.Exists(dll), $"{dll} is not built");
        using var pe = new PEReader(File.OpenRead(dll));
        var md = pe.GetMetadataReader();
        return md.AssemblyReferences.Select(h => md.GetString(md.GetAssemblyReference(h).Name)).ToList();
    }

    static string Plugin(string name) => Path.Combine(Repo.Root, "artifacts", "plugins", Configuration, name, name + ".dll");

    public static TheoryData<string> TorchFree => new()
    {
        Path.Combine(Repo.Root, "src", "Ziya2.Abstractions", "bin", Configuration, "net10.0", "Ziya2.Abstractions.dll"),
        Path.Combine(Repo.Root, "src", "Ziya2.DataFactory", "bin", Configuration, "net10.0", "Ziya2.DataFactory.dll"),
        Plugin("Ziya2.Plugins.DataFilters"), Plugin("Ziya2.Plugins.Dedup"), Plugin("Ziya2.Plugins.Scoring"),
        Plugin("Ziya2.Plugins.Tokenizers"), Plugin("Ziya2.Plugins.Schedulers"),
    };

    [Theory, MemberData(nameof(TorchFree))]
    public void Text_side_assemblies_reference_no_tensor_stack(string dll)
    {
        var references = References(dll);
        Assert.DoesNotContain("TorchSharp", references);
        Assert.DoesNotContain("Ziya2.Abstractions.Tensors", references);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(dll)!, "TorchSharp*.dll"));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(dll)!, "*LibTorch*", SearchOption.AllDirectories));
    }

    [Fact]
    public void Tensor_plugins_use_the_tensor_sdk_and_ship_no_copy_of_either_sdk()
    {
        foreach (var name in new[] { "Ziya2.Plugins.Llama", "Ziya2.Plugins.Optimizers" })
        {
            var references = References(Plugin(name));
            Assert.Contains("Ziya2.Abstractions.Tensors", references);
            Assert.Contains("TorchSharp", references);
            // Shared with the host, never private copies (type identity across load contexts).
            Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(Plugin(name))!, "Ziya2.Abstractions*.dll"));
            Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(Plugin(name))!, "TorchSharp*.dll"));
        }
        Assert.Contains("TorchSharp", References(typeof(Ziya2.Models.ILanguageModel).Assembly.Location));
    }
}
