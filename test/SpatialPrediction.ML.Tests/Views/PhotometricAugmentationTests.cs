using SpatialPrediction.ML.Views;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Tests.Views;

public class PhotometricAugmentationTests
{
    [Test]
    public void Identity_leaves_images_unchanged()
    {
        using var scope = NewDisposeScope();
        var images = rand(4, 3, 8, 8);

        var output = PhotometricAugmentation.Identity.Apply(images, new Random(1));

        (output - images).abs().max().item<float>().Should().BeLessThan(1e-6f);
    }

    [Test]
    public void Same_seed_repeats_the_augmentation_and_values_stay_in_the_unit_range()
    {
        using var scope = NewDisposeScope();
        var images = rand(8, 3, 12, 12);
        var augmentation = new PhotometricAugmentation { BlurProbability = 0.5f };

        var first = augmentation.Apply(images, new Random(3));
        var second = augmentation.Apply(images, new Random(3));

        (first - second).abs().max().item<float>().Should().Be(0f);
        first.min().item<float>().Should().BeGreaterThanOrEqualTo(0f);
        first.max().item<float>().Should().BeLessThanOrEqualTo(1f + 1e-6f);
        (first - images).abs().max().item<float>().Should().BeGreaterThan(0.01f);
    }

    [Test]
    public void Grayscale_with_probability_one_makes_the_channels_equal()
    {
        using var scope = NewDisposeScope();
        var images = rand(3, 3, 6, 6);
        var augmentation = new PhotometricAugmentation { JitterProbability = 0, GrayscaleProbability = 1 };

        var output = augmentation.Apply(images, new Random(1));

        (output[.., 0] - output[.., 1]).abs().max().item<float>().Should().BeLessThan(1e-6f);
        (output[.., 1] - output[.., 2]).abs().max().item<float>().Should().BeLessThan(1e-6f);
    }
}
