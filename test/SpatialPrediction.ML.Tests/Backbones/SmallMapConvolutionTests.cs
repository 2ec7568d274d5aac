using SpatialPrediction.ML.Backbones;
using SpatialPrediction.ML.Training;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Tests.Backbones;

public class SmallMapConvolutionTests
{
    private static Tensor ChannelsLast(Tensor t) => t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);

    [TestCase(2, 2, 1)]
    [TestCase(1, 1, 1)]
    [TestCase(1, 2, 1)]
    [TestCase(2, 2, 2)]
    [TestCase(2, 1, 2)]
    public void Computes_the_convolution_and_its_gradients(int height, int width, int stride)
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var conv = nn.Conv2d(6, 10, 3, stride: stride, padding: 1, bias: false);
        var input = ChannelsLast(randn(3, 6, height, width)).requires_grad_();
        var upstream = randn(conv.forward(input).shape);
        SmallMapConvolution.Applies(conv, input).Should().BeTrue();

        var expected = conv.forward(input);
        (expected * upstream).sum().backward();
        var (expectedInput, expectedWeight) = (input.grad!.clone(), conv.weight!.grad!.clone());
        input.grad = null;
        conv.weight.grad = null;
        var actual = SmallMapConvolution.Forward(conv, input);
        (actual * upstream).sum().backward();

        actual.shape.Should().Equal(expected.shape);
        actual.permute(0, 2, 3, 1).is_contiguous().Should().BeTrue("the result stays channels-last");
        (actual - expected).abs().max().item<float>().Should().BeLessThan(1e-5f);
        (input.grad! - expectedInput).abs().max().item<float>().Should().BeLessThan(1e-5f);
        (conv.weight.grad! - expectedWeight).abs().max().item<float>().Should().BeLessThan(1e-5f, "the kernel's gradient sums its taps as the convolution's does");
    }

    [Test]
    public void Leaves_larger_maps_channels_first_input_biases_and_other_kernels_to_the_convolution()
    {
        using var scope = NewDisposeScope();
        var conv = nn.Conv2d(4, 4, 3, padding: 1, bias: false);
        SmallMapConvolution.Applies(conv, ChannelsLast(randn(2, 4, 3, 3))).Should().BeFalse("a 3×3 map is past the matrix's size");
        SmallMapConvolution.Applies(conv, randn(2, 4, 2, 2)).Should().BeFalse("channels-first input");
        SmallMapConvolution.Applies(nn.Conv2d(4, 4, 3, padding: 1, bias: true), ChannelsLast(randn(2, 4, 2, 2))).Should().BeFalse("a bias");
        SmallMapConvolution.Applies(nn.Conv2d(4, 4, 1, bias: false), ChannelsLast(randn(2, 4, 2, 2))).Should().BeFalse("a 1×1 kernel");
        SmallMapConvolution.Applies(nn.Conv2d(4, 4, 3, padding: 2, dilation: 2, bias: false), ChannelsLast(randn(2, 4, 2, 2))).Should().BeFalse("a dilated kernel");
    }

    [Test]
    public void A_resnet_trains_the_same_with_small_maps_as_matrices_and_its_bfloat16_copy_follows()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        using var backbone = BackboneFactory.Create(new BackboneSpec(BackboneKind.ResNet18, ImageSize: 32));
        backbone.train();
        var images = rand(3, 3, 32, 32); // 32 px: the last two stages see 2×2 and 1×1 maps
        var (features, gradients) = (new List<Tensor>(), new List<Tensor>());
        foreach (bool matrices in new[] { false, true })
        {
            backbone.Apply(new ConvolutionPlan(ConvolutionLayout.ChannelsLast, matrices));
            backbone.modules().OfType<ResidualBlock>().Should().HaveCount(8).And.OnlyContain(b => b.SmallMapsAsMatrices == matrices);
            var output = backbone.forward(images);
            output.pow(2).sum().backward();
            features.Add(output.detach());
            gradients.Add(cat(backbone.parameters().Select(p => p.grad!.flatten()).ToArray()));
            foreach (var p in backbone.parameters()) p.grad = null;
        }

        (features[1] - features[0]).abs().max().item<float>().Should().BeLessThan(1e-4f * features[0].abs().max().item<float>());
        (gradients[1] - gradients[0]).abs().max().item<float>().Should().BeLessThan(1e-3f * gradients[0].abs().max().item<float>());
        using var bfloat16 = new BFloat16Backbone(backbone, () => BackboneFactory.Create(new BackboneSpec(BackboneKind.ResNet18, ImageSize: 32)));
        bfloat16.ComputePlan.Should().Be(new ConvolutionPlan(ConvolutionLayout.ChannelsLast, true), "the working copy computes as its master");
        bfloat16.SetPlan(new ConvolutionPlan(ConvolutionLayout.ChannelsFirst));
        bfloat16.ComputePlan.Should().Be(new ConvolutionPlan(ConvolutionLayout.ChannelsFirst));
    }
}
