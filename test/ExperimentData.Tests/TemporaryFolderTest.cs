namespace SpatialPrediction.ML.ExperimentData.Tests;

/// <summary>Base of tests that write files: a fresh temporary folder per test, deleted afterwards.</summary>
public abstract class TemporaryFolderTest
{
    /// <summary>The current test's folder.</summary>
    protected string Folder { get; private set; } = null!;

    /// <summary>Prefix of the folder's name, so a leftover folder says which tests made it.</summary>
    protected abstract string Prefix { get; }

    [SetUp]
    public void CreateFolder() => Folder = Directory.CreateTempSubdirectory(Prefix).FullName;

    [TearDown]
    public virtual void DeleteFolder() => Directory.Delete(Folder, recursive: true);
}
