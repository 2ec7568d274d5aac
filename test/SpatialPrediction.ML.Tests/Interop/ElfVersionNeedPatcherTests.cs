using SpatialPrediction.ML.Interop;

namespace SpatialPrediction.ML.Tests.Interop;

public class ElfVersionNeedPatcherTests
{
    private static byte[] TorchSharpLikeLibrary() => ElfFixture.Build(
        new ElfFixture.Need("libstdc++.so.6", ("GLIBCXX_3.4.30", 0), ("GLIBCXX_3.4.32", 0), ("CXXABI_1.3", 0)),
        new ElfFixture.Need("libc.so.6", ("GLIBC_2.34", 0)));

    [Test]
    public void ReadVersionNeeds_lists_every_library_and_version_of_the_fixture()
    {
        var needs = ElfVersionNeedPatcher.ReadVersionNeeds(TorchSharpLikeLibrary());

        needs.Select(n => (n.File, n.Version)).Should().Equal(
            ("libstdc++.so.6", "GLIBCXX_3.4.30"), ("libstdc++.so.6", "GLIBCXX_3.4.32"),
            ("libstdc++.so.6", "CXXABI_1.3"), ("libc.so.6", "GLIBC_2.34"));
        needs.Should().OnlyContain(n => !n.IsWeak);
    }

    [Test]
    public void MarkWeak_sets_only_the_weak_bit_of_only_the_named_version()
    {
        var original = TorchSharpLikeLibrary();
        var image = (byte[])original.Clone();

        var outcome = ElfVersionNeedPatcher.MarkWeak(image, "GLIBCXX_3.4.32");

        outcome.Should().Be(VersionNeedPatchOutcome.Patched);
        var needs = ElfVersionNeedPatcher.ReadVersionNeeds(image);
        needs.Single(n => n.Version == "GLIBCXX_3.4.32").Flags.Should().Be(ElfVersionNeedPatcher.VerFlagWeak);
        needs.Where(n => n.Version != "GLIBCXX_3.4.32").Should().OnlyContain(n => n.Flags == 0);
        var flagsOffset = needs.Single(n => n.Version == "GLIBCXX_3.4.32").FlagsOffset;
        Enumerable.Range(0, image.Length).Where(i => image[i] != original[i]).Should().Equal((int)flagsOffset);
    }

    [Test]
    public void MarkWeak_keeps_other_flag_bits_and_is_idempotent()
    {
        var image = ElfFixture.Build(new ElfFixture.Need("libstdc++.so.6", ("GLIBCXX_3.4.32", 0x1)));

        ElfVersionNeedPatcher.MarkWeak(image, "GLIBCXX_3.4.32").Should().Be(VersionNeedPatchOutcome.Patched);
        var patched = (byte[])image.Clone();
        ElfVersionNeedPatcher.MarkWeak(image, "GLIBCXX_3.4.32").Should().Be(VersionNeedPatchOutcome.AlreadyWeak);

        image.Should().Equal(patched);
        ElfVersionNeedPatcher.ReadVersionNeeds(image).Single().Flags.Should().Be(0x3);
    }

    [Test]
    public void MarkWeak_reports_a_version_the_file_does_not_need_and_changes_nothing()
    {
        var image = TorchSharpLikeLibrary();
        var before = (byte[])image.Clone();

        ElfVersionNeedPatcher.MarkWeak(image, "GLIBCXX_9.9.99").Should().Be(VersionNeedPatchOutcome.NotReferenced);

        image.Should().Equal(before);
    }

    [Test]
    public void Non_elf_and_32_bit_inputs_are_rejected_with_a_reason()
    {
        var notElf = new byte[128];
        var elf32 = TorchSharpLikeLibrary();
        elf32[4] = 1;

        FluentActions.Invoking(() => ElfVersionNeedPatcher.ReadVersionNeeds(notElf))
            .Should().Throw<InvalidDataException>().WithMessage("*magic*");
        FluentActions.Invoking(() => ElfVersionNeedPatcher.ReadVersionNeeds(elf32))
            .Should().Throw<InvalidDataException>().WithMessage("*64-bit*");
    }

    [Test]
    public void Truncated_file_is_rejected_instead_of_read_out_of_bounds()
    {
        var image = TorchSharpLikeLibrary();
        var truncated = image.AsSpan(0, image.Length - 100).ToArray();

        FluentActions.Invoking(() => ElfVersionNeedPatcher.ReadVersionNeeds(truncated)).Should().Throw<InvalidDataException>();
    }

    [Test]
    public void MarkWeak_on_a_file_replaces_it_with_the_patched_bytes_and_leaves_no_temporary()
    {
        string folder = Directory.CreateTempSubdirectory("elf-patch-").FullName;
        try
        {
            string path = Path.Combine(folder, "libLibTorchSharp.so");
            File.WriteAllBytes(path, TorchSharpLikeLibrary());

            ElfVersionNeedPatcher.MarkWeak(path, "GLIBCXX_3.4.32").Should().Be(VersionNeedPatchOutcome.Patched);

            ElfVersionNeedPatcher.ReadVersionNeeds(File.ReadAllBytes(path)).Single(n => n.Version == "GLIBCXX_3.4.32").IsWeak.Should().BeTrue();
            Directory.GetFiles(folder).Should().ContainSingle();
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
