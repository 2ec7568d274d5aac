namespace SpatialPrediction.ML.Performance;

/// <summary>
/// Counted forward cost of the TorchVision-layout ResNet-18 (our <c>BackboneKind.ResNet18</c>): multiply-adds of every
/// convolution, from its kernel, channels and output size. Batch norm, ReLU, pooling and the heads are left out (well
/// under 1 % here). One multiply-add is two FLOPs; a training step costs three forward passes (forward, and backward
/// to activations and to weights).
/// </summary>
internal static class ResNetFlops
{
    public static double ForwardFlops(int imageSize)
    {
        double macs = 0;
        int Out(int size, int kernel, int stride, int padding) => (size + 2 * padding - kernel) / stride + 1;
        void Conv(int inChannels, int outChannels, int kernel, int outSize) => macs += (double)kernel * kernel * inChannels * outChannels * outSize * outSize;

        int size = Out(imageSize, 7, 2, 3);
        Conv(3, 64, 7, size);
        size = Out(size, 3, 2, 1); // max-pool
        int channels = 64;
        for (int stage = 0; stage < 4; stage++)
        {
            int width = 64 << stage;
            for (int block = 0; block < 2; block++)
            {
                int stride = stage > 0 && block == 0 ? 2 : 1;
                int outSize = Out(size, 3, stride, 1);
                Conv(channels, width, 3, outSize);
                Conv(width, width, 3, outSize);
                if (stride != 1 || channels != width) Conv(channels, width, 1, outSize);
                channels = width;
                size = outSize;
            }
        }
        return 2 * macs;
    }
}
