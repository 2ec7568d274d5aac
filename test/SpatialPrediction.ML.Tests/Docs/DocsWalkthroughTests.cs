using System.Text.RegularExpressions;

namespace SpatialPrediction.ML.Tests.Docs;

/// <summary>Keeps docs/architecture.md honest: its code is the code that compiles (and that Objectives/CustomObjectiveTests trains).</summary>
public class DocsWalkthroughTests
{
    private static string Repository([System.Runtime.CompilerServices.CallerFilePath] string here = "")
        => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", ".."));

    private static string Architecture => File.ReadAllText(Path.Combine(Repository(), "docs", "architecture.md"));

    [Test]
    public void Every_snippet_in_the_architecture_page_is_the_file_it_names()
    {
        var snippets = Regex.Matches(Architecture, @"<!-- snippet: (?<path>\S+) -->\s*```csharp\n(?<code>.*?)\n```", RegexOptions.Singleline);
        var lines = Regex.Matches(Architecture, @"<!-- line: (?<path>\S+) -->\s*```csharp\n(?<code>.*?)\n```", RegexOptions.Singleline);

        snippets.Should().NotBeEmpty();
        lines.Should().NotBeEmpty();
        foreach (Match m in snippets)
            m.Groups["code"].Value.Should().Be(File.ReadAllText(Path.Combine(Repository(), m.Groups["path"].Value)).TrimEnd('\n'), m.Groups["path"].Value);
        foreach (Match m in lines)
            File.ReadAllLines(Path.Combine(Repository(), m.Groups["path"].Value)).Should().Contain(m.Groups["code"].Value, m.Groups["path"].Value);
    }
}
