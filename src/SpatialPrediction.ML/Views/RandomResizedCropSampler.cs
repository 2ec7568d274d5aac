namespace SpatialPrediction.ML.Views;

/// <summary>
/// Samples crop boxes the way Inception-style random-resized-crop does (area fraction and log-uniform aspect ratio),
/// but seeded and returning the box, which TorchSharp's own transform does not.
/// </summary>
/// <param name="MinArea">Smallest crop area, as a fraction of the image.</param>
/// <param name="MaxArea">Largest crop area, as a fraction of the image.</param>
/// <param name="MinAspect">Smallest width/height ratio (in image-normalised units).</param>
/// <param name="MaxAspect">Largest width/height ratio.</param>
internal sealed record RandomResizedCropSampler(float MinArea, float MaxArea, float MinAspect = 3f / 4f, float MaxAspect = 4f / 3f)
{
    /// <summary>Draws one box that lies inside the image.</summary>
    public ViewBox Sample(Random random)
    {
        for (int attempt = 0; attempt < 10; attempt++)
        {
            float area = MinArea + (MaxArea - MinArea) * random.NextSingle();
            float logAspect = MathF.Log(MinAspect) + (MathF.Log(MaxAspect) - MathF.Log(MinAspect)) * random.NextSingle();
            float aspect = MathF.Exp(logAspect);
            float width = MathF.Sqrt(area * aspect), height = MathF.Sqrt(area / aspect);
            if (width > 1f || height > 1f) continue;
            float cx = width / 2 + (1 - width) * random.NextSingle();
            float cy = height / 2 + (1 - height) * random.NextSingle();
            return new ViewBox(cx, cy, width, height);
        }
        // Same fallback as torchvision: the largest centred crop with the clamped aspect ratio.
        float side = MathF.Sqrt(Math.Clamp(MaxArea, MinArea, 1f));
        return new ViewBox(0.5f, 0.5f, side, side);
    }
}
