using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using SpatialPrediction.ML.ExperimentData;

namespace SpatialPrediction.ML.ExperimentData.Tests;

public class EmojiDataPreparationTests : TemporaryFolderTest
{
    protected override string Prefix => "sp-emoji-";

    /// <summary>A tiny emoji-datasource-like tarball: metadata for four emoji, their images, a skin variant and a hostile name.</summary>
    private string Tarball()
    {
        string path = Path.Combine(Folder, "fake.tgz");
        string json = """
        [
          {"image":"1f600.png","unified":"1F600","category":"Smileys & Emotion","subcategory":"face-smiling","has_img_google":true},
          {"image":"1f436.png","unified":"1F436","category":"Animals & Nature","subcategory":"animal-mammal","has_img_google":true},
          {"image":"1f3fb.png","unified":"1F3FB","category":"Component","subcategory":"skin-tone","has_img_google":true},
          {"image":"1f44d.png","unified":"1F44D","category":"People & Body","subcategory":"hand-fingers-closed","has_img_google":true,
           "skin_variations":{"1F3FB":{"image":"1f44d-1f3fb.png"}}}
        ]
        """;
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gzip, TarEntryFormat.Pax);
        void Add(string name, byte[] bytes)
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(bytes) };
            tar.WriteEntry(entry);
        }
        Add("package/emoji.json", Encoding.UTF8.GetBytes(json));
        foreach (var image in new[] { "1f600.png", "1f436.png", "1f3fb.png", "1f44d.png", "1f44d-1f3fb.png" })
            Add($"package/img/google/64/{image}", new byte[] { 1, 2, 3 });
        Add("package/img/google/64/../../../../escape.png", new byte[] { 6 });
        return path;
    }

    [Test]
    public void Writes_category_and_subcategory_splits_of_base_emoji_only()
    {
        string output = Path.Combine(Folder, "out");

        var csvs = EmojiDataPreparation.PrepareFromTarball(EmojiSource.Google, Tarball(), output);

        csvs.Select(Path.GetFileName).Should().BeEquivalentTo(
            "google-category-train.csv", "google-category-test.csv", "google-subcategory-train.csv", "google-subcategory-test.csv");
        var rows = csvs.Where(c => c.Contains("-category-")).SelectMany(c => File.ReadAllLines(c).Skip(1)).ToList();
        rows.Should().HaveCount(3, "the Component entry and the skin-tone variant are left out");
        rows.Should().Contain(r => r.StartsWith("google/1f600.png,") && r.EndsWith("\"Smileys & Emotion\""));
        rows.Should().NotContain(r => r.Contains("1f44d-1f3fb"));
        foreach (var (unified, image) in new[] { ("1F600", "1f600.png"), ("1F436", "1f436.png"), ("1F44D", "1f44d.png") })
        {
            string expected = EmojiDataPreparation.SplitOf(unified);
            File.ReadAllLines(Path.Combine(output, $"google-category-{expected}.csv")).Should().Contain(r => r.StartsWith($"google/{image},"));
        }
        File.Exists(Path.Combine(output, "ATTRIBUTION-google.md")).Should().BeTrue();
    }

    [Test]
    public void Archive_entries_cannot_write_outside_the_output_folder()
    {
        string output = Path.Combine(Folder, "out");

        EmojiDataPreparation.PrepareFromTarball(EmojiSource.Google, Tarball(), output);

        Directory.GetFiles(Folder, "escape.png", SearchOption.AllDirectories).Should().BeEmpty();
        File.Exists(Path.Combine(Path.GetTempPath(), "escape.png")).Should().BeFalse();
    }

    [Test]
    public void The_split_is_a_stable_function_of_the_emoji_with_about_one_in_five_in_test()
    {
        var codes = Enumerable.Range(0x1F300, 1000).Select(c => c.ToString("X")).ToList();

        double share = codes.Count(c => EmojiDataPreparation.SplitOf(c) == "test") / (double)codes.Count;

        share.Should().BeApproximately(0.2, 0.05);
        codes.Select(EmojiDataPreparation.SplitOf).Should().Equal(codes.Select(EmojiDataPreparation.SplitOf));
    }

    [Test]
    public void No_image_is_in_both_the_train_and_the_test_split_of_any_task()
    {
        string output = Path.Combine(Folder, "out");
        EmojiDataPreparation.PrepareFromTarball(EmojiSource.Google, Tarball(), output);

        foreach (var task in new[] { "category", "subcategory" })
        {
            var train = File.ReadAllLines(Path.Combine(output, $"google-{task}-train.csv")).Skip(1).Select(r => r.Split(',')[0]).ToHashSet();
            var test = File.ReadAllLines(Path.Combine(output, $"google-{task}-test.csv")).Skip(1).Select(r => r.Split(',')[0]);
            train.Intersect(test).Should().BeEmpty();
        }
    }

    /// <summary>An openmoji-like tarball: CSV metadata (one row with a quoted comma) and SVG drawings.</summary>
    private string OpenMojiTarball()
    {
        string path = Path.Combine(Folder, "openmoji.tgz");
        string csv = "emoji,hexcode,group,subgroups,annotation,skintone\n" +
                     "x,1F600,smileys-emotion,face-smiling,\"grinning, face\",\n" +
                     "x,2764,smileys-emotion,heart,red heart,\n" +
                     "x,1F44D,people-body,hand-fingers-closed,thumbs up,\n" +
                     "x,1F44D-1F3FB,people-body,hand-fingers-closed,thumbs up: light,1\n" +
                     "x,E000,extras-openmoji,extras,openmoji only,\n";
        const string svg = "<svg viewBox=\"0 0 72 72\" xmlns=\"http://www.w3.org/2000/svg\"><circle cx=\"36\" cy=\"36\" r=\"20\" fill=\"#FCEA2B\"/></svg>";
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gzip, TarEntryFormat.Pax);
        void Add(string name, string text) => tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)) });
        Add("package/data/openmoji.csv", csv);
        foreach (var code in new[] { "1F600", "2764", "1F44D", "1F44D-1F3FB", "E000" }) Add($"package/color/svg/{code}.svg", svg);
        return path;
    }

    [Test]
    public void OpenMoji_is_rendered_from_svg_with_the_other_styles_category_names_and_without_skin_variants_or_extras()
    {
        string output = Path.Combine(Folder, "out");

        var csvs = EmojiDataPreparation.PrepareFromTarball(EmojiSource.OpenMoji, OpenMojiTarball(), output);

        var rows = csvs.Where(c => c.Contains("-category-")).SelectMany(c => File.ReadAllLines(c).Skip(1)).ToList();
        rows.Should().HaveCount(3);
        rows.Should().Contain("openmoji/1f600.png,\"Smileys & Emotion\"").And.Contain("openmoji/1f44d.png,\"People & Body\"");
        using var image = SkiaSharp.SKBitmap.Decode(Path.Combine(output, "openmoji", "1f600.png"));
        image.Width.Should().Be(EmojiDataPreparation.ImageSize);
        image.GetPixel(32, 32).Should().Be(new SkiaSharp.SKColor(0xFC, 0xEA, 0x2B, 255));
        File.ReadAllText(Path.Combine(output, "ATTRIBUTION-openmoji.md")).Should().Contain("CC-BY-SA 4.0");
    }

    [Test]
    public void An_emoji_lands_on_the_same_side_whether_or_not_a_style_spells_the_variation_selector()
    {
        var codes = Enumerable.Range(0x2600, 300).Select(c => c.ToString("X4")).ToList();

        codes.Select(c => EmojiDataPreparation.SplitOf(c + "-FE0F")).Should().Equal(codes.Select(EmojiDataPreparation.SplitOf));
        EmojiDataPreparation.SplitOf("1f44d").Should().Be(EmojiDataPreparation.SplitOf("1F44D"));
    }
}
