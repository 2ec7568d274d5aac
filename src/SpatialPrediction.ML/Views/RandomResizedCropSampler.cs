namespace SpatialPrediction.ML.Views;

/// <summary>
/// Samples crop boxes the way Inception-style random-resized-crop does (area fraction and log-uniform aspect ratio, in
/// the picture's own pixels, so a wide photo gets boxes of the same shapes as a square one), pixel-aligned, seeded and
/// returning the box, which TorchSharp's own transform does not.
/// </summary>
/// <param name="MinArea">Smallest crop area, as a fraction of the image.</param>
/// <param name="MaxArea">Largest crop area, as a fraction of the image.</param>
/// <param name="MinAspect">Smallest width/height ratio, in pixels.</param>
/// <param name="MaxAspect">Largest width/height ratio.</param>
internal sealed record RandomResizedCropSampler(float MinArea, float MaxArea, float MinAspect = 3f / 4f, float MaxAspect = 4f / 3f)
{
    /// <summary>Draws one box of whole pixels that lies inside a <paramref name="width"/> × <paramref name="height"/> picture.</summary>
    public ViewBox Sample(Random random, int width, int height)
    {
        float pixels = (float)width * height;
        for (int attempt = 0; attempt < 10; attempt++)
        {
            float area = (MinArea + (MaxArea - MinArea) * random.NextSingle()) * pixels;
            float logAspect = MathF.Log(MinAspect) + (MathF.Log(MaxAspect) - MathF.Log(MinAspect)) * random.NextSingle();
            float aspect = MathF.Exp(logAspect);
            int w = (int)MathF.Round(MathF.Sqrt(area * aspect)), h = (int)MathF.Round(MathF.Sqrt(area / aspect));
            if (w < 1 || h < 1 || w > width || h > height) continue;
            int left = Math.Min((int)((width - w + 1) * random.NextSingle()), width - w);
            int top = Math.Min((int)((height - h + 1) * random.NextSingle()), height - h);
            return ViewBox.FromPixels(left, top, w, h, width, height);
        }
        // Same fallback as torchvision: the largest centred crop with the clamped area.
        float side = MathF.Sqrt(Math.Clamp(MaxArea, MinArea, 1f));
        int fw = Math.Max(1, (int)MathF.Round(side * width)), fh = Math.Max(1, (int)MathF.Round(side * height));
        return ViewBox.FromPixels((width - fw) / 2, (height - fh) / 2, fw, fh, width, height);
    }
}
