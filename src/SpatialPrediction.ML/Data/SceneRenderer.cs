namespace SpatialPrediction.ML.Data;

/// <summary>
/// Rasterises one scene: a textured background, optional distractors, then the main object, each shape given by an
/// inside-test in the object's own [-1, 1]² frame and anti-aliased by 2×2 supersampling. Alongside the pixels it
/// writes the class mask and the depth map; the style changes only how objects and background look, never the random
/// draws, so every style of one (seed, index) shares geometry, mask and depth.
/// </summary>
/// <remarks>
/// Every scene draws from its own <see cref="Random"/>, seeded from (seed, index), so scene <c>i</c> is the same
/// whatever the set size and whichever order scenes are rendered in (which also lets rendering run in parallel).
/// </remarks>
internal static class SceneRenderer
{
    const int BackgroundKinds = 5;

    public static SceneImage Render(int index, SpatialScenesOptions options)
    {
        var random = SeedStreams.For(options.Seed, SeedStreams.Scenes, index);
        int size = options.ImageSize;
        var canvas = new float[size * size * 3];
        var (bgMean, _) = PaintBackground(canvas, size, random);
        var mask = new byte[size * size];
        var depth = new float[size * size];
        for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++)
            depth[y * size + x] = BackgroundDepth(y, size);
        if (options.Style == SceneStyle.Palette)
        {
            for (int i = 0; i < canvas.Length; i++) canvas[i] = 0.45f * canvas[i] + 0.55f * 235f;
        }

        var objects = new List<SceneObject>();
        var mainShape = (SceneShape)random.Next(options.ClassCount);
        for (int d = 0; d < options.DistractorCount; d++)
        {
            SceneShape shape;
            do shape = (SceneShape)random.Next(options.ClassCount); while (shape == mainShape);
            float scale = Lerp(options.MinObjectScale * 0.5f, options.MinObjectScale, random.NextSingle());
            objects.Add(PlaceObject(shape, scale, bgMean, random));
        }
        float mainScale = Lerp(options.MinObjectScale, options.MaxObjectScale, random.NextSingle());
        var main = PlaceObject(mainShape, mainScale, bgMean, random);
        objects.Insert(0, main);

        // Draw back to front: distractors first (each nearer than the one before), the labelled object last and
        // nearest so it is never hidden; bigger main objects are nearer still.
        var layer = new SceneLayer(canvas, mask, depth, size, options.Style);
        for (int i = 1; i < objects.Count; i++) PaintObject(layer, objects[i], 6f + 0.5f * (objects.Count - i));
        PaintObject(layer, main, 3f + 2f * (1f - mainScale));

        var rgb = new byte[canvas.Length];
        for (int i = 0; i < canvas.Length; i++)
        {
            // A little sensor noise keeps flat regions from being trivially matchable across views.
            float noisy = canvas[i] + (random.NextSingle() - 0.5f) * 6f;
            rgb[i] = (byte)Math.Clamp(MathF.Round(noisy), 0f, 255f);
        }
        if (options.Style == SceneStyle.Grayscale)
        {
            for (int p = 0; p < rgb.Length; p += 3)
            {
                byte luma = (byte)Math.Clamp(MathF.Round(0.299f * rgb[p] + 0.587f * rgb[p + 1] + 0.114f * rgb[p + 2]), 0f, 255f);
                rgb[p] = rgb[p + 1] = rgb[p + 2] = luma;
            }
        }
        return new SceneImage(index, size, size, rgb, objects, mask, depth, options.Style);
    }

    /// <summary>The background is a plane tilted away from the viewer towards the top of the image.</summary>
    internal static float BackgroundDepth(int y, int size) => 10f + 4f * (1f - (y + 0.5f) / size);

    /// <summary>The buffers one scene is drawn into.</summary>
    private sealed record SceneLayer(float[] Canvas, byte[] Mask, float[] Depth, int Size, SceneStyle Style);

    static SceneObject PlaceObject(SceneShape shape, float scale, float[] bgMean, Random random)
    {
        float aspect = MathF.Exp(Lerp(MathF.Log(0.8f), MathF.Log(1.25f), random.NextSingle()));
        float width = Math.Min(1f, scale * MathF.Sqrt(aspect));
        float height = Math.Min(1f, scale / MathF.Sqrt(aspect));
        float cx = Lerp(width / 2, 1 - width / 2, random.NextSingle());
        float cy = Lerp(height / 2, 1 - height / 2, random.NextSingle());

        // Bright, saturated fills that differ from the background enough to be seen.
        float[] colour = new float[3];
        for (int attempt = 0; attempt < 20; attempt++)
        {
            HsvToRgb(random.NextSingle(), Lerp(0.55f, 1f, random.NextSingle()), Lerp(0.55f, 1f, random.NextSingle()), colour);
            float distance = MathF.Abs(colour[0] - bgMean[0]) + MathF.Abs(colour[1] - bgMean[1]) + MathF.Abs(colour[2] - bgMean[2]);
            if (distance > 150f) break;
        }
        return new SceneObject(shape, cx, cy, width, height, (byte)colour[0], (byte)colour[1], (byte)colour[2]);
    }

    static void PaintObject(SceneLayer layer, SceneObject obj, float objectDepth)
    {
        int size = layer.Size;
        float[] canvas = layer.Canvas;
        float left = (obj.CenterX - obj.Width / 2) * size, right = (obj.CenterX + obj.Width / 2) * size;
        float top = (obj.CenterY - obj.Height / 2) * size, bottom = (obj.CenterY + obj.Height / 2) * size;
        int x0 = Math.Max(0, (int)MathF.Floor(left)), x1 = Math.Min(size - 1, (int)MathF.Ceiling(right));
        int y0 = Math.Max(0, (int)MathF.Floor(top)), y1 = Math.Min(size - 1, (int)MathF.Ceiling(bottom));
        float halfW = (right - left) / 2, halfH = (bottom - top) / 2;
        float midX = (left + right) / 2, midY = (top + bottom) / 2;
        // Palette style: a fixed 120° hue rotation (R, G, B) → (B, R, G) of the object's colour.
        (float red, float green, float blue) = layer.Style == SceneStyle.Palette ? (obj.Blue, obj.Red, obj.Green) : (obj.Red, obj.Green, obj.Blue);

        for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
        {
            int covered = 0, painted = 0;
            float shade = 0;
            for (int sy = 0; sy < 2; sy++)
            for (int sx = 0; sx < 2; sx++)
            {
                float u = (x + 0.25f + 0.5f * sx - midX) / halfW;
                float v = (y + 0.25f + 0.5f * sy - midY) / halfH;
                if (!Inside(obj.Shape, u, v)) continue;
                covered++;
                if (layer.Style == SceneStyle.Outline && Inside(obj.Shape, u / 0.7f, v / 0.7f)) continue;
                painted++;
                shade += layer.Style == SceneStyle.Texture && (((int)MathF.Floor((u + v + 4f) * 3f)) & 1) == 1 ? 0.5f : 1f;
            }
            if (covered >= 2)
            {
                layer.Mask[y * size + x] = (byte)((int)obj.Shape + 1);
                layer.Depth[y * size + x] = objectDepth;
            }
            if (painted == 0) continue;
            float alpha = painted / 4f, tone = shade / painted;
            int p = (y * size + x) * 3;
            canvas[p] = canvas[p] * (1 - alpha) + red * tone * alpha;
            canvas[p + 1] = canvas[p + 1] * (1 - alpha) + green * tone * alpha;
            canvas[p + 2] = canvas[p + 2] * (1 - alpha) + blue * tone * alpha;
        }
    }

    /// <summary>Inside-test of each class in the object frame: u right, v down, both in [-1, 1].</summary>
    internal static bool Inside(SceneShape shape, float u, float v)
    {
        float r = MathF.Sqrt(u * u + v * v);
        switch (shape)
        {
            case SceneShape.Circle: return r <= 1f;
            case SceneShape.Square: return MathF.Abs(u) <= 0.85f && MathF.Abs(v) <= 0.85f;
            case SceneShape.Triangle: return v <= 0.85f && v >= -1f && MathF.Abs(u) <= (v + 1f) / 1.85f;
            case SceneShape.Cross:
                return (MathF.Abs(u) <= 0.3f && MathF.Abs(v) <= 1f) || (MathF.Abs(v) <= 0.3f && MathF.Abs(u) <= 1f);
            case SceneShape.Ring: return r <= 1f && r >= 0.55f;
            case SceneShape.Star:
            {
                float theta = MathF.Atan2(v, u) + MathF.PI / 2;
                return r <= 0.55f + 0.45f * MathF.Pow(MathF.Abs(MathF.Cos(2.5f * theta)), 2f);
            }
            case SceneShape.Diamond: return MathF.Abs(u) + MathF.Abs(v) <= 1f;
            case SceneShape.Crescent:
            {
                float du = u - 0.45f;
                return r <= 1f && du * du + v * v > 0.75f * 0.75f;
            }
            default: throw new ArgumentOutOfRangeException(nameof(shape), shape, "Unknown scene shape.");
        }
    }

    static (float[] Mean, int Kind) PaintBackground(float[] canvas, int size, Random random)
    {
        int kind = random.Next(BackgroundKinds);
        // The second background colour stays close to the first, so textures are visible but never outshine the object.
        float[] a = RandomMutedColour(random), b = new float[3];
        float shift = Lerp(-60f, 60f, random.NextSingle());
        for (int c = 0; c < 3; c++) b[c] = Math.Clamp(a[c] + shift + Lerp(-15f, 15f, random.NextSingle()), 0f, 255f);
        float angle = random.NextSingle() * MathF.PI;
        float period = Lerp(4f, 14f, random.NextSingle()) * size / 64f;
        float cos = MathF.Cos(angle), sin = MathF.Sin(angle);
        // Low-frequency waves for the "blotchy" background.
        var waves = new (float Fx, float Fy, float Phase)[3];
        for (int i = 0; i < waves.Length; i++)
            waves[i] = (Lerp(-4f, 4f, random.NextSingle()), Lerp(-4f, 4f, random.NextSingle()), random.NextSingle() * 6.283f);

        var mean = new float[3];
        for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++)
        {
            float fx = (x + 0.5f) / size, fy = (y + 0.5f) / size;
            float t = kind switch
            {
                0 => 0f,
                1 => Math.Clamp(fx * cos + fy * sin, 0f, 1f),
                2 => ((int)MathF.Floor((x * cos + y * sin) / period) & 1) == 0 ? 0f : 1f,
                3 => (((int)(x / period) + (int)(y / period)) & 1) == 0 ? 0f : 1f,
                _ => 0.5f + waves.Sum(w => MathF.Sin(6.283f * (w.Fx * fx + w.Fy * fy) + w.Phase)) / 6f,
            };
            int p = (y * size + x) * 3;
            for (int c = 0; c < 3; c++)
            {
                canvas[p + c] = a[c] * (1 - t) + b[c] * t;
                mean[c] += canvas[p + c];
            }
        }
        for (int c = 0; c < 3; c++) mean[c] /= size * size;
        return (mean, kind);
    }

    static float[] RandomMutedColour(Random random)
    {
        var colour = new float[3];
        HsvToRgb(random.NextSingle(), Lerp(0f, 0.45f, random.NextSingle()), Lerp(0.1f, 0.9f, random.NextSingle()), colour);
        return colour;
    }

    static void HsvToRgb(float h, float s, float v, float[] rgb)
    {
        float i = MathF.Floor(h * 6f);
        float f = h * 6f - i, p = v * (1 - s), q = v * (1 - f * s), t = v * (1 - (1 - f) * s);
        (float r, float g, float b) = ((int)i % 6) switch
        {
            0 => (v, t, p),
            1 => (q, v, p),
            2 => (p, v, t),
            3 => (p, q, v),
            4 => (t, p, v),
            _ => (v, p, q),
        };
        rgb[0] = r * 255f;
        rgb[1] = g * 255f;
        rgb[2] = b * 255f;
    }

    static float Lerp(float a, float b, float t) => a + (b - a) * t;
}
