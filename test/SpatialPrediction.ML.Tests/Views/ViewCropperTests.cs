using SpatialPrediction.ML.Views;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Tests.Views;

public class ViewCropperTests
{
    /// <summary>An 8×8 single-image batch whose value at (y, x) is y * 8 + x, in all three channels.</summary>
    private static Tensor Ramp() => arange(64, dtype: ScalarType.Float32).reshape(1, 1, 8, 8).expand(1, 3, 8, 8).contiguous();

    [Test]
    public void The_whole_image_box_at_the_same_size_returns_the_image()
    {
        using var scope = NewDisposeScope();
        var image = Ramp();

        var crop = ViewCropper.Crop(image, new[] { new ViewBox(0.5f, 0.5f, 1f, 1f) }, null, 8);

        (crop - image).abs().max().item<float>().Should().BeLessThan(1e-4f);
    }

    [Test]
    public void A_quadrant_box_at_native_resolution_returns_exactly_that_quadrant()
    {
        using var scope = NewDisposeScope();
        var image = Ramp();

        var crop = ViewCropper.Crop(image, new[] { new ViewBox(0.75f, 0.25f, 0.5f, 0.5f) }, null, 4);

        var expected = image[.., .., 0..4, 4..8];
        (crop - expected).abs().max().item<float>().Should().BeLessThan(1e-4f);
    }

    [Test]
    public void A_mirrored_crop_equals_the_crop_of_the_mirrored_image_at_the_mirrored_box()
    {
        using var scope = NewDisposeScope();
        var image = rand(2, 3, 16, 16, generator: new TorchSharp.torch.Generator(7));
        var boxes = new[] { new ViewBox(0.3f, 0.6f, 0.4f, 0.5f), new ViewBox(0.7f, 0.4f, 0.25f, 0.3f) };

        var mirroredCrop = ViewCropper.Crop(image, boxes, new[] { true, true }, 8);
        var cropOfMirrored = ViewCropper.Crop(image.flip(3), boxes.Select(b => b.Mirrored()).ToArray(), null, 8);

        (mirroredCrop - cropOfMirrored).abs().max().item<float>().Should().BeLessThan(1e-4f);
    }

    [Test]
    public void Box_count_must_match_the_batch()
    {
        using var scope = NewDisposeScope();
        FluentActions.Invoking(() => ViewCropper.Crop(Ramp(), Array.Empty<ViewBox>(), null, 4))
            .Should().Throw<ArgumentException>().WithMessage("*0 boxes*batch of 1*");
    }
}
