using SpatialPrediction.ML.Views;

namespace SpatialPrediction.ML.Objectives;

/// <summary>The view recipes of the hosts, scaled for small images (the papers' ImageNet recipes start at 224 px).</summary>
internal static class HostViews
{
    /// <summary>
    /// SimCLR / MoCo v3 / BYOL: two random-resized crops (area 0.2–1, SimCLR's CIFAR setting rather than ImageNet's
    /// 0.08, which leaves too little of a 32–64 px image), flip, colour jitter 0.4/0.4/0.4/0.1 with p = 0.8, grayscale
    /// p = 0.2, no blur (dropped for small images, as SimCLR does on CIFAR).
    /// </summary>
    public static MultiCropSampler TwoViews(int resolution)
        => new(new[] { new CropFamily(2, new RandomResizedCropSampler(0.2f, 1f), resolution) }, new PhotometricAugmentation());

    /// <summary>
    /// DINO multi-crop: two global crops (area 0.4–1) at the image resolution and <paramref name="localCrops"/> local
    /// crops (area 0.05–0.4) at <paramref name="localResolution"/>, with DINO's blur on the views.
    /// </summary>
    public static MultiCropSampler MultiCrop(int resolution, int localCrops, int localResolution)
        => new(new[]
        {
            new CropFamily(2, new RandomResizedCropSampler(0.4f, 1f), resolution),
            new CropFamily(localCrops, new RandomResizedCropSampler(0.05f, 0.4f), localResolution),
        }, new PhotometricAugmentation { BlurProbability = 0.5f });
}
