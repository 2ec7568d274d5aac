using Microsoft.ML;
using Microsoft.ML.Data;

namespace SpatialPrediction.ML.Data;

/// <summary>
/// The built-in, deterministic, procedurally rendered dataset: one labelled object (of up to 8 classes) at a random
/// position, scale and colour over a varied background, optionally with smaller distractors.
/// </summary>
/// <example>
/// <code>
/// var scenes = SpatialScenes.Generate(1000, new SpatialScenesOptions { Seed = 7 });
/// IDataView data = SpatialScenes.ToDataView(new MLContext(), scenes);   // columns: Image (MLImage), Label (int)
/// </code>
/// </example>
public static class SpatialScenes
{
    /// <summary>Names of the classes, indexed by label.</summary>
    public static IReadOnlyList<string> ClassNames { get; } = Enum.GetNames<SceneShape>();

    /// <summary>Renders scenes <c>0 .. count-1</c> of the set the options describe.</summary>
    public static IReadOnlyList<SceneImage> Generate(int count, SpatialScenesOptions? options = null)
    {
        options ??= new SpatialScenesOptions();
        options.Validate();
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), count, "count must not be negative.");
        var scenes = new SceneImage[count];
        Parallel.For(0, count, i => scenes[i] = SceneRenderer.Render(i, options));
        return scenes;
    }

    /// <summary>
    /// Wraps scenes as an <see cref="IDataView"/> with columns <c>Image</c> (<see cref="MLImage"/>) and
    /// <c>Label</c> (<see cref="int"/>, the <see cref="SceneShape"/> value).
    /// </summary>
    public static IDataView ToDataView(MLContext mlContext, IEnumerable<SceneImage> scenes)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(scenes);
        var list = scenes.ToList();
        int width = list.Count > 0 ? list[0].Width : 64, height = list.Count > 0 ? list[0].Height : 64;
        if (list.Any(s => s.Width != width || s.Height != height))
            throw new ArgumentException("All scenes of one data view must have the same size.", nameof(scenes));
        return new SceneDataView(list, width, height);
    }

    /// <summary>Convenience: <see cref="Generate"/> then <see cref="ToDataView"/>.</summary>
    public static IDataView GenerateDataView(MLContext mlContext, int count, SpatialScenesOptions? options = null)
        => ToDataView(mlContext, Generate(count, options));

    /// <summary>The scene's pixels as an ML.NET image (RGBA, opaque).</summary>
    public static MLImage ToMLImage(SceneImage scene)
    {
        var rgba = new byte[scene.Width * scene.Height * 4];
        for (int p = 0, q = 0; p < scene.Rgb.Length; p += 3, q += 4)
        {
            rgba[q] = scene.Rgb[p];
            rgba[q + 1] = scene.Rgb[p + 1];
            rgba[q + 2] = scene.Rgb[p + 2];
            rgba[q + 3] = 255;
        }
        return MLImage.CreateFromPixels(scene.Width, scene.Height, MLPixelFormat.Rgba32, rgba);
    }
}
