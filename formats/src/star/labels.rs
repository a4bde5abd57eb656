//! Registry of the RELION labels cryoflux understands: each label's value type and physical unit.
//! Labels not listed here are read and written as text, unchanged.
//!
//! The types agree with RELION 3.1.3's own label table (`relion_refine
//! --print_metadata_labels`), with RELION's booleans stored as integers 0/1, as RELION writes
//! them, and its `vector<double>` labels (`[c1,c2,…]`) kept as text. A few RELION 4/5 labels
//! (tomography, centred coordinates) are included as well.

/// The kind of value a label holds, which decides the column type on read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// Real number.
    Float,
    /// Integer.
    Int,
    /// Text (names, paths, `N@stack.mrcs` references).
    Text,
}

/// What cryoflux knows about one RELION label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabelInfo {
    /// The label without its leading underscore, e.g. `rlnDefocusU`.
    pub name: &'static str,
    /// The value type.
    pub kind: ValueKind,
    /// The physical unit, e.g. `Å`, `degrees`, `kV`, `mm`, `pixels`; empty when dimensionless.
    pub unit: &'static str,
    /// One line saying what the value means.
    pub meaning: &'static str,
}

/// Look up a label (without the leading underscore).
pub fn lookup(name: &str) -> Option<&'static LabelInfo> {
    LABELS
        .binary_search_by(|info| info.name.cmp(name))
        .ok()
        .map(|i| &LABELS[i])
}

/// The value kind of `name`: its registry entry's kind, or text for unknown labels.
pub fn kind_of(name: &str) -> ValueKind {
    lookup(name).map_or(ValueKind::Text, |info| info.kind)
}

/// Labels of a particle's geometry and imaging (Euler angles, origins, coordinates, CTF and
/// optics constants), sorted: a NaN or infinite value in one of them is always a broken input,
/// so readers refuse it where it is written (file, line or row, label) instead of letting it
/// surface later as a NaN in some output.
pub const FINITE_LABELS: &[&str] = &[
    "rlnAmplitudeContrast",
    "rlnAnglePsi",
    "rlnAngleRot",
    "rlnAngleTilt",
    "rlnCoordinateX",
    "rlnCoordinateY",
    "rlnCoordinateZ",
    "rlnCtfBfactor",
    "rlnCtfScalefactor",
    "rlnDefocusAngle",
    "rlnDefocusU",
    "rlnDefocusV",
    "rlnDetectorPixelSize",
    "rlnImagePixelSize",
    "rlnMagnification",
    "rlnOriginX",
    "rlnOriginXAngst",
    "rlnOriginY",
    "rlnOriginYAngst",
    "rlnOriginZ",
    "rlnOriginZAngst",
    "rlnPhaseShift",
    "rlnSphericalAberration",
    "rlnVoltage",
];

/// Whether `name` is one of the [`FINITE_LABELS`], whose values must be finite numbers.
pub fn must_be_finite(name: &str) -> bool {
    FINITE_LABELS.binary_search(&name).is_ok()
}

const fn float(name: &'static str, unit: &'static str, meaning: &'static str) -> LabelInfo {
    LabelInfo {
        name,
        kind: ValueKind::Float,
        unit,
        meaning,
    }
}

const fn int(name: &'static str, unit: &'static str, meaning: &'static str) -> LabelInfo {
    LabelInfo {
        name,
        kind: ValueKind::Int,
        unit,
        meaning,
    }
}

const fn text(name: &'static str, meaning: &'static str) -> LabelInfo {
    LabelInfo {
        name,
        kind: ValueKind::Text,
        unit: "",
        meaning,
    }
}

/// Every label in the registry, sorted by name (byte order) so that [`lookup`] can bisect.
pub static LABELS: &[LabelInfo] = &[
    float(
        "rlnAccumMotionEarly",
        "Å",
        "accumulated global motion over the first frames",
    ),
    float(
        "rlnAccumMotionLate",
        "Å",
        "accumulated global motion over the last frames",
    ),
    float(
        "rlnAccumMotionTotal",
        "Å",
        "accumulated global motion over the whole movie",
    ),
    float(
        "rlnAccuracyRotations",
        "degrees",
        "estimated accuracy of the rotational assignment",
    ),
    float(
        "rlnAccuracyTranslations",
        "pixels",
        "estimated accuracy of the translational assignment (RELION 3.0)",
    ),
    float(
        "rlnAccuracyTranslationsAngst",
        "Å",
        "estimated accuracy of the translational assignment",
    ),
    float(
        "rlnAdaptiveOversampleFraction",
        "",
        "fraction of the posterior mass oversampled in the second pass",
    ),
    int(
        "rlnAdaptiveOversampleOrder",
        "",
        "order of adaptive oversampling (0 none, 1 twice, 2 four times …)",
    ),
    float(
        "rlnAmplitudeContrast",
        "",
        "amplitude contrast fraction Q0 (0.1 = 10 %)",
    ),
    float(
        "rlnAnglePsi",
        "degrees",
        "third Euler angle (psi, in-plane, ZYZ)",
    ),
    float("rlnAnglePsiPrior", "degrees", "centre of the prior on psi"),
    float(
        "rlnAngleRot",
        "degrees",
        "first Euler angle (rot, ZYZ, rotates the reference onto the particle)",
    ),
    float("rlnAngleRotPrior", "degrees", "centre of the prior on rot"),
    float("rlnAngleTilt", "degrees", "second Euler angle (tilt, ZYZ)"),
    float(
        "rlnAngleTiltPrior",
        "degrees",
        "centre of the prior on tilt",
    ),
    float(
        "rlnAngstromResolution",
        "Å",
        "resolution of a shell (inverse of rlnResolution; 999 at shell 0)",
    ),
    int(
        "rlnAutoLocalSearchesHealpixOrder",
        "",
        "HEALPix order from which local searches start",
    ),
    float(
        "rlnAutopickFigureOfMerit",
        "",
        "autopicking figure of merit of a particle",
    ),
    float(
        "rlnAveragePmax",
        "",
        "average of rlnMaxValueProbDistribution over all particles",
    ),
    float("rlnBeamTiltX", "mrad", "beam tilt along X"),
    float("rlnBeamTiltY", "mrad", "beam tilt along Y"),
    float(
        "rlnBestResolutionThusFar",
        "Å⁻¹",
        "best resolution so far (spatial frequency)",
    ),
    float(
        "rlnBfactorUsedForSharpening",
        "Å²",
        "B-factor applied to sharpen the map",
    ),
    float(
        "rlnCenteredCoordinateXAngst",
        "Å",
        "particle X relative to the tomogram centre (RELION 5)",
    ),
    float(
        "rlnCenteredCoordinateYAngst",
        "Å",
        "particle Y relative to the tomogram centre (RELION 5)",
    ),
    float(
        "rlnCenteredCoordinateZAngst",
        "Å",
        "particle Z relative to the tomogram centre (RELION 5)",
    ),
    float(
        "rlnChangesOptimalClasses",
        "",
        "fraction of particles that changed class",
    ),
    float(
        "rlnChangesOptimalOffsets",
        "Å",
        "mean change of the optimal offsets",
    ),
    float(
        "rlnChangesOptimalOrientations",
        "degrees",
        "mean change of the optimal orientations",
    ),
    float(
        "rlnClassDistribution",
        "",
        "fraction of the particles in a class",
    ),
    int(
        "rlnClassNumber",
        "",
        "1-based class the particle is assigned to",
    ),
    float(
        "rlnCoordinateX",
        "pixels",
        "particle centre X in the micrograph (micrograph pixels, origin at the first array element)",
    ),
    float(
        "rlnCoordinateY",
        "pixels",
        "particle centre Y in the micrograph (micrograph pixels)",
    ),
    float(
        "rlnCoordinateZ",
        "pixels",
        "particle centre Z in a tomogram (tomogram pixels)",
    ),
    float(
        "rlnCorrectedFourierShellCorrelationPhaseRandomizedMaskedMaps",
        "",
        "FSC between masked half maps with randomised high-frequency phases",
    ),
    float(
        "rlnCorrelationFitGuinierPlot",
        "",
        "correlation coefficient of the Guinier fit",
    ),
    float(
        "rlnCtfAstigmatism",
        "Å",
        "absolute difference between rlnDefocusU and rlnDefocusV",
    ),
    float(
        "rlnCtfBfactor",
        "Å²",
        "B-factor envelope of the CTF, exp(-B u²/4)",
    ),
    int(
        "rlnCtfDataAreCtfPremultiplied",
        "",
        "1 when the images were multiplied by their CTF (boolean)",
    ),
    int(
        "rlnCtfDataArePhaseFlipped",
        "",
        "1 when the images were phase-flipped (boolean)",
    ),
    float("rlnCtfFigureOfMerit", "", "figure of merit of the CTF fit"),
    text(
        "rlnCtfImage",
        "image holding the CTF of a micrograph (CTFFIND power spectrum)",
    ),
    float(
        "rlnCtfMaxResolution",
        "Å",
        "highest resolution to which CTF rings were fitted",
    ),
    float("rlnCtfScalefactor", "", "scale factor of the CTF"),
    float("rlnCtfValue", "", "value of the contrast transfer function"),
    int(
        "rlnCurrentImageSize",
        "pixels",
        "Fourier window size used in the current iteration",
    ),
    int("rlnCurrentIteration", "", "number of the current iteration"),
    float(
        "rlnCurrentResolution",
        "Å",
        "resolution of the current iteration",
    ),
    int(
        "rlnDataDimensionality",
        "",
        "2 or 3: dimensionality of the particle images",
    ),
    float(
        "rlnDefocusAngle",
        "degrees",
        "angle of the major astigmatism axis from the X axis",
    ),
    float(
        "rlnDefocusU",
        "Å",
        "defocus along the major astigmatism axis (positive = underfocus)",
    ),
    float(
        "rlnDefocusV",
        "Å",
        "defocus along the minor astigmatism axis (positive = underfocus)",
    ),
    float(
        "rlnDetectorPixelSize",
        "µm",
        "physical detector pixel size (RELION 3.0)",
    ),
    int("rlnDoAutoRefine", "", "1 for auto-refinement (boolean)"),
    int("rlnDoCorrectCtf", "", "1 to correct for the CTF (boolean)"),
    int(
        "rlnDoCorrectNorm",
        "",
        "1 to correct the normalisation of the images (boolean)",
    ),
    int(
        "rlnDoCorrectScale",
        "",
        "1 to correct the intensity scale of groups (boolean)",
    ),
    int(
        "rlnDoHelicalRefine",
        "",
        "1 for helical refinement (boolean)",
    ),
    int(
        "rlnDoIgnoreCtfUntilFirstPeak",
        "",
        "1 to ignore the CTF until its first peak (boolean)",
    ),
    int(
        "rlnDoMapEstimation",
        "",
        "1 to compute a MAP estimate (boolean)",
    ),
    int(
        "rlnDoOnlyFlipCtfPhases",
        "",
        "1 to correct only the CTF phases (boolean)",
    ),
    int("rlnDoSkipAlign", "", "1 to skip alignment (boolean)"),
    int(
        "rlnDoSkipRotate",
        "",
        "1 to skip rotational searches (boolean)",
    ),
    int(
        "rlnDoSolventFlattening",
        "",
        "1 to flatten the solvent of the references (boolean)",
    ),
    int(
        "rlnDoSolventFscCorrection",
        "",
        "1 to correct the FSC for the solvent mask (boolean)",
    ),
    int(
        "rlnDoSplitRandomHalves",
        "",
        "1 for gold-standard refinement of two independent halves (boolean)",
    ),
    int(
        "rlnDoZeroMask",
        "",
        "1 to mask the solvent area with zeros (boolean)",
    ),
    int(
        "rlnEERGrouping",
        "",
        "number of EER frames summed into one fraction",
    ),
    int(
        "rlnEERUpsampling",
        "",
        "EER super-resolution factor (1 or 2)",
    ),
    float(
        "rlnEstimatedResolution",
        "Å",
        "estimated resolution of a class",
    ),
    text(
        "rlnEvenZernike",
        "even Zernike coefficients of the wave aberration, `[c1,c2,…]`",
    ),
    text(
        "rlnExperimentalDataStarFile",
        "particle STAR file of a refinement",
    ),
    float(
        "rlnFinalResolution",
        "Å",
        "gold-standard resolution at FSC 0.143",
    ),
    float(
        "rlnFittedInterceptGuinierPlot",
        "",
        "intercept of the Guinier fit",
    ),
    float(
        "rlnFittedSlopeGuinierPlot",
        "Å²",
        "slope of the Guinier fit (B-factor / 4)",
    ),
    int(
        "rlnFixSigmaNoiseEstimates",
        "",
        "1 to keep the noise spectra fixed (boolean)",
    ),
    int(
        "rlnFixSigmaOffsetEstimates",
        "",
        "1 to keep the offset standard deviation fixed (boolean)",
    ),
    float(
        "rlnFourierCompleteness",
        "",
        "fraction of a shell's Fourier components with enough data weight",
    ),
    float("rlnFourierShellCorrelation", "", "FSC of unspecified kind"),
    float(
        "rlnFourierShellCorrelationCorrected",
        "",
        "masked FSC corrected by phase randomisation",
    ),
    float(
        "rlnFourierShellCorrelationMaskedMaps",
        "",
        "FSC between the masked half maps",
    ),
    float(
        "rlnFourierShellCorrelationParticleMaskFraction",
        "",
        "FSC corrected for the particle's share of the mask volume",
    ),
    float(
        "rlnFourierShellCorrelationUnmaskedMaps",
        "",
        "FSC between the unmasked half maps",
    ),
    int(
        "rlnFourierSpaceInterpolator",
        "",
        "0 nearest neighbour, 1 trilinear",
    ),
    float(
        "rlnGoldStandardFsc",
        "",
        "FSC between the two independent half maps",
    ),
    text("rlnGroupName", "name of a noise/scale group"),
    int("rlnGroupNrParticles", "", "number of particles in a group"),
    int(
        "rlnGroupNumber",
        "",
        "1-based noise/scale group of the particle",
    ),
    float(
        "rlnGroupScaleCorrection",
        "",
        "intensity scale correction of a group",
    ),
    int(
        "rlnHasConverged",
        "",
        "1 when the refinement has converged (boolean)",
    ),
    int(
        "rlnHasHighFscAtResolLimit",
        "",
        "1 when the FSC is high at the current resolution limit (boolean)",
    ),
    int(
        "rlnHasLargeSizeIncreaseIterationsAgo",
        "",
        "iterations since a large increase of the image size",
    ),
    int(
        "rlnHealpixOrder",
        "",
        "HEALPix order of the orientational sampling",
    ),
    int(
        "rlnHealpixOrderOriginal",
        "",
        "HEALPix order at the start of the refinement",
    ),
    float(
        "rlnHelicalOffsetStep",
        "Å",
        "offset step along the helical axis",
    ),
    int("rlnHelicalTubeID", "", "helical tube a segment belongs to"),
    float(
        "rlnHighresLimitExpectation",
        "Å",
        "high-resolution limit of the expectation step",
    ),
    int(
        "rlnImageDimensionality",
        "",
        "2 for particle images, 3 for subtomograms",
    ),
    int("rlnImageId", "", "unique number of an image"),
    text(
        "rlnImageName",
        "image reference `N@stack.mrcs`, N the 1-based slice in the stack",
    ),
    text(
        "rlnImageOriginalName",
        "image reference before a re-extraction or subtraction, `N@stack.mrcs`",
    ),
    float(
        "rlnImagePixelSize",
        "Å",
        "pixel size of the particle images",
    ),
    int(
        "rlnImageSize",
        "pixels",
        "side length of the square particle images",
    ),
    int("rlnImageSizeX", "pixels", "image size along X"),
    int("rlnImageSizeY", "pixels", "image size along Y"),
    int("rlnImageSizeZ", "pixels", "image size along Z"),
    int(
        "rlnIncrementImageSize",
        "Fourier shells",
        "shells added beyond the current resolution",
    ),
    int(
        "rlnIs3DSampling",
        "",
        "1 for 3D orientational sampling (boolean)",
    ),
    int(
        "rlnIs3DTranslationalSampling",
        "",
        "1 for 3D translational sampling (boolean)",
    ),
    int("rlnIsHelix", "", "1 for helical refinement (boolean)"),
    float(
        "rlnJoinHalvesUntilThisResolution",
        "Å",
        "resolution up to which the half sets are joined",
    ),
    float(
        "rlnLogAmplitudesIntercept",
        "",
        "ln amplitude of the fitted Guinier line",
    ),
    float(
        "rlnLogAmplitudesMTFCorrected",
        "",
        "ln of the shell-mean amplitude after MTF correction",
    ),
    float(
        "rlnLogAmplitudesOriginal",
        "",
        "ln of the shell-mean amplitude of the unsharpened map",
    ),
    float(
        "rlnLogAmplitudesSharpened",
        "",
        "ln of the shell-mean amplitude after sharpening",
    ),
    float(
        "rlnLogAmplitudesWeighted",
        "",
        "ln of the shell-mean amplitude after FSC weighting",
    ),
    float(
        "rlnLogLikeliContribution",
        "",
        "contribution of the particle to the log-likelihood",
    ),
    float("rlnLogLikelihood", "", "total log-likelihood of the data"),
    float(
        "rlnLowresLimitExpectation",
        "Å",
        "low-resolution limit of the expectation step",
    ),
    float(
        "rlnMagMat00",
        "",
        "anisotropic magnification matrix, element (1,1)",
    ),
    float(
        "rlnMagMat01",
        "",
        "anisotropic magnification matrix, element (1,2)",
    ),
    float(
        "rlnMagMat10",
        "",
        "anisotropic magnification matrix, element (2,1)",
    ),
    float(
        "rlnMagMat11",
        "",
        "anisotropic magnification matrix, element (2,2)",
    ),
    float(
        "rlnMagnification",
        "",
        "nominal magnification at the detector (RELION 3.0; pixel size = rlnDetectorPixelSize·10⁴/magnification)",
    ),
    text("rlnMaskName", "file name of a mask"),
    int(
        "rlnMaxNumberOfPooledParticles",
        "",
        "particles processed together in one pool",
    ),
    float(
        "rlnMaxValueProbDistribution",
        "",
        "largest posterior probability of the particle (Pmax)",
    ),
    int(
        "rlnMaximumCoarseImageSize",
        "pixels",
        "largest Fourier window of the coarse pass",
    ),
    float(
        "rlnMicrographBinning",
        "",
        "binning factor from movie to micrograph",
    ),
    text("rlnMicrographDefectFile", "detector defect file of a movie"),
    float(
        "rlnMicrographDoseRate",
        "e⁻/Å² per frame",
        "electron dose per frame",
    ),
    int("rlnMicrographFrameNumber", "", "movie frame number"),
    text("rlnMicrographGainName", "gain reference of a movie"),
    int("rlnMicrographId", "", "unique number of a micrograph"),
    text(
        "rlnMicrographMetadata",
        "STAR file with the motion model of a micrograph",
    ),
    text(
        "rlnMicrographMovieName",
        "movie the micrograph was summed from",
    ),
    text(
        "rlnMicrographName",
        "summed (motion-corrected) micrograph the particle came from",
    ),
    float(
        "rlnMicrographOriginalPixelSize",
        "Å",
        "pixel size of the unbinned movie",
    ),
    float(
        "rlnMicrographPixelSize",
        "Å",
        "pixel size of the (possibly binned) micrograph",
    ),
    float(
        "rlnMicrographPreExposure",
        "e⁻/Å²",
        "dose received before the first frame",
    ),
    float(
        "rlnMicrographShiftX",
        "pixels",
        "X shift of a movie frame (unbinned pixels)",
    ),
    float(
        "rlnMicrographShiftY",
        "pixels",
        "Y shift of a movie frame (unbinned pixels)",
    ),
    int(
        "rlnMicrographStartFrame",
        "",
        "first movie frame of a micrograph (1-based)",
    ),
    int(
        "rlnMinRadiusNnInterpolation",
        "Fourier pixels",
        "radius below which nearest-neighbour interpolation is used",
    ),
    text("rlnModelStarFile", "model STAR file (half 1)"),
    text("rlnModelStarFile2", "model STAR file of half 2"),
    float(
        "rlnMolecularWeight",
        "kDa",
        "molecular weight of the ordered mass",
    ),
    float(
        "rlnMotionModelCoeff",
        "",
        "value of a motion model coefficient",
    ),
    int(
        "rlnMotionModelCoeffsIdx",
        "",
        "index of a motion model coefficient",
    ),
    int("rlnMotionModelVersion", "", "version of the motion model"),
    int("rlnMovieFrameNumber", "", "movie frame number"),
    text(
        "rlnMtfFileName",
        "STAR file with the detector MTF of an optics group",
    ),
    float("rlnMtfValue", "", "detector MTF at a spatial frequency"),
    float(
        "rlnNormCorrection",
        "",
        "intensity normalisation correction of the particle",
    ),
    float(
        "rlnNormCorrectionAverage",
        "",
        "average of rlnNormCorrection over all particles",
    ),
    int(
        "rlnNrBodies",
        "",
        "number of bodies (multi-body refinement)",
    ),
    int("rlnNrClasses", "", "number of classes"),
    int("rlnNrGroups", "", "number of noise/scale groups"),
    int(
        "rlnNrOfSignificantSamples",
        "",
        "number of (orientation, translation) samples above the significance threshold",
    ),
    int(
        "rlnNumberOfIterWithoutChangingAssignments",
        "",
        "iterations without large changes of the assignments",
    ),
    int(
        "rlnNumberOfIterWithoutResolutionGain",
        "",
        "iterations since the resolution last improved",
    ),
    int("rlnNumberOfIterations", "", "maximum number of iterations"),
    text(
        "rlnOddZernike",
        "odd Zernike coefficients of the wave aberration, `[c1,c2,…]`",
    ),
    float("rlnOffsetRange", "Å", "search range of the origin offsets"),
    float(
        "rlnOffsetRangeOriginal",
        "Å",
        "search range of the origin offsets at the start of the refinement",
    ),
    float("rlnOffsetStep", "Å", "coarse step of the origin offsets"),
    float(
        "rlnOffsetStepOriginal",
        "Å",
        "coarse step of the origin offsets at the start of the refinement",
    ),
    int(
        "rlnOpticsGroup",
        "",
        "1-based optics group number, a row of data_optics",
    ),
    text(
        "rlnOpticsGroupName",
        "name of an optics group (RELION writes `opticsGroupN`)",
    ),
    text(
        "rlnOrientSamplingStarFile",
        "sampling STAR file of a refinement",
    ),
    float(
        "rlnOrientationDistribution",
        "",
        "probability of a coarse viewing direction",
    ),
    int(
        "rlnOrientationalPriorMode",
        "",
        "0 no orientational priors, 1 local searches around priors",
    ),
    float(
        "rlnOriginX",
        "pixels",
        "X shift from particle to reference centre (RELION 3.0; pixels of the particle image)",
    ),
    float(
        "rlnOriginXAngst",
        "Å",
        "X shift from particle to reference centre, applied before rotation (RELION 3.1+)",
    ),
    float(
        "rlnOriginXPrior",
        "pixels",
        "centre of the prior on rlnOriginX (RELION 3.0)",
    ),
    float(
        "rlnOriginXPriorAngst",
        "Å",
        "centre of the prior on rlnOriginXAngst",
    ),
    float(
        "rlnOriginY",
        "pixels",
        "Y shift from particle to reference centre (RELION 3.0; pixels of the particle image)",
    ),
    float(
        "rlnOriginYAngst",
        "Å",
        "Y shift from particle to reference centre, applied before rotation (RELION 3.1+)",
    ),
    float(
        "rlnOriginYPrior",
        "pixels",
        "centre of the prior on rlnOriginY (RELION 3.0)",
    ),
    float(
        "rlnOriginYPriorAngst",
        "Å",
        "centre of the prior on rlnOriginYAngst",
    ),
    float(
        "rlnOriginZ",
        "pixels",
        "Z shift from particle to reference centre (RELION 3.0; pixels of the particle image)",
    ),
    float(
        "rlnOriginZAngst",
        "Å",
        "Z shift from particle to reference centre (RELION 3.1+)",
    ),
    float(
        "rlnOriginZPrior",
        "pixels",
        "centre of the prior on rlnOriginZ (RELION 3.0)",
    ),
    float(
        "rlnOriginZPriorAngst",
        "Å",
        "centre of the prior on rlnOriginZAngst",
    ),
    int(
        "rlnOriginalImageSize",
        "pixels",
        "full box size of the particle images",
    ),
    text(
        "rlnOutputRootName",
        "output root of a refinement (`Refine3D/job012/run`)",
    ),
    float(
        "rlnOverallAccuracyRotations",
        "degrees",
        "overall accuracy of the rotational assignment",
    ),
    float(
        "rlnOverallAccuracyTranslations",
        "pixels",
        "overall accuracy of the translational assignment (RELION 3.0)",
    ),
    float(
        "rlnOverallAccuracyTranslationsAngst",
        "Å",
        "overall accuracy of the translational assignment",
    ),
    float(
        "rlnOverallFourierCompleteness",
        "",
        "fraction of Fourier components up to the current resolution with SSNR > 1",
    ),
    float(
        "rlnPaddingFactor",
        "",
        "oversampling factor of the projector in Fourier space",
    ),
    float(
        "rlnParticleBoxFractionMolecularWeight",
        "",
        "fraction of the box a protein of the given molecular weight occupies",
    ),
    float(
        "rlnParticleBoxFractionSolventMask",
        "",
        "fraction of the box inside the solvent mask",
    ),
    float(
        "rlnParticleDiameter",
        "Å",
        "diameter of the circular particle mask",
    ),
    int("rlnParticleNumber", "", "number of particles"),
    float("rlnPhaseShift", "degrees", "phase shift of a phase plate"),
    float("rlnPixelSize", "Å", "pixel size of the references"),
    float("rlnPsiStep", "degrees", "in-plane angular step"),
    float(
        "rlnPsiStepOriginal",
        "degrees",
        "in-plane angular step at the start of the refinement",
    ),
    int("rlnRandomSeed", "", "seed of the random number generator"),
    int("rlnRandomSubset", "", "gold-standard half set, 1 or 2"),
    float(
        "rlnRandomiseFrom",
        "Å",
        "resolution from which phases were randomised",
    ),
    int(
        "rlnReferenceDimensionality",
        "",
        "2 or 3: dimensionality of the references",
    ),
    text("rlnReferenceImage", "file name of a reference map"),
    float(
        "rlnReferenceSigma2",
        "",
        "spherically averaged power of the reference in a shell",
    ),
    float(
        "rlnReferenceTau2",
        "",
        "spherically averaged signal power τ² of a shell",
    ),
    int(
        "rlnRefsAreCtfCorrected",
        "",
        "1 when the references are CTF-corrected (boolean)",
    ),
    float("rlnResolution", "Å⁻¹", "spatial frequency of a shell"),
    float(
        "rlnResolutionInversePixel",
        "1/pixel",
        "spatial frequency in units of the inverse detector pixel",
    ),
    float(
        "rlnResolutionSquared",
        "Å⁻²",
        "squared spatial frequency of a shell (Guinier plot abscissa)",
    ),
    float(
        "rlnSamplingPerturbFactor",
        "",
        "relative size of the random sampling perturbation",
    ),
    float(
        "rlnSamplingPerturbInstance",
        "",
        "random perturbation of the current sampling",
    ),
    float(
        "rlnSigma2Noise",
        "",
        "spherically averaged noise power σ² of a shell (RELION FFT units)",
    ),
    float(
        "rlnSigmaOffsets",
        "pixels",
        "standard deviation of the origin offsets (RELION 3.0)",
    ),
    float(
        "rlnSigmaOffsetsAngst",
        "Å",
        "standard deviation of the origin offsets",
    ),
    float(
        "rlnSigmaPriorPsiAngle",
        "degrees",
        "standard deviation of the prior on psi",
    ),
    float(
        "rlnSigmaPriorRotAngle",
        "degrees",
        "standard deviation of the prior on rot",
    ),
    float(
        "rlnSigmaPriorTiltAngle",
        "degrees",
        "standard deviation of the prior on tilt",
    ),
    int(
        "rlnSmallestChangesClasses",
        "",
        "smallest number of class changes so far",
    ),
    float(
        "rlnSmallestChangesOffsets",
        "Å",
        "smallest rlnChangesOptimalOffsets so far",
    ),
    float(
        "rlnSmallestChangesOrientations",
        "degrees",
        "smallest rlnChangesOptimalOrientations so far",
    ),
    text(
        "rlnSolventMask2Name",
        "file name of the second solvent mask",
    ),
    text("rlnSolventMaskName", "file name of the solvent mask"),
    int(
        "rlnSpectralIndex",
        "Fourier shells",
        "shell number r: spatial frequency r/(N·pixel size)",
    ),
    float(
        "rlnSpectralOrientabilityContribution",
        "",
        "spectral contribution to the orientability of a class",
    ),
    float("rlnSphericalAberration", "mm", "spherical aberration Cs"),
    float(
        "rlnSsnrMap",
        "",
        "spectral signal-to-noise ratio of a shell",
    ),
    text(
        "rlnSymmetryGroup",
        "point-group symmetry, e.g. `C1`, `D7`, `I3`",
    ),
    float("rlnTau2FudgeFactor", "", "regularisation parameter T"),
    text("rlnTauSpectrumName", "file with a fixed τ² spectrum"),
    float(
        "rlnTiltAngleLimit",
        "degrees",
        "limit on the tilt angle (-91 = none)",
    ),
    text(
        "rlnTomoName",
        "name of the tomogram a particle belongs to (RELION 4/5)",
    ),
    text(
        "rlnTomoParticleName",
        "unique name of a subtomogram particle (RELION 4/5)",
    ),
    float(
        "rlnTomoSubtomogramBinning",
        "",
        "binning of the pseudo-subtomograms (RELION 4/5)",
    ),
    float(
        "rlnTomoTiltSeriesPixelSize",
        "Å",
        "pixel size of a tilt series (RELION 4/5)",
    ),
    text(
        "rlnTomoVisibleFrames",
        "per-tilt visibility flags of a particle, `[1,1,0,…]` (RELION 4/5)",
    ),
    text(
        "rlnUnfilteredMapHalf1",
        "file name of the unfiltered half map 1",
    ),
    text(
        "rlnUnfilteredMapHalf2",
        "file name of the unfiltered half map 2",
    ),
    float("rlnVoltage", "kV", "acceleration voltage"),
    int(
        "rlnWidthMaskEdge",
        "pixels",
        "width of the soft edge of the particle mask",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_sorted_and_unique() {
        for pair in LABELS.windows(2) {
            assert!(
                pair[0].name < pair[1].name,
                "{} before {}",
                pair[0].name,
                pair[1].name
            );
        }
    }

    #[test]
    fn every_label_is_found_by_lookup() {
        for info in LABELS {
            assert_eq!(lookup(info.name), Some(info));
        }
    }

    #[test]
    fn kinds_and_units_of_core_particle_labels() {
        assert_eq!(kind_of("rlnImageName"), ValueKind::Text);
        assert_eq!(kind_of("rlnDefocusU"), ValueKind::Float);
        assert_eq!(lookup("rlnDefocusU").unwrap().unit, "Å");
        assert_eq!(lookup("rlnAngleRot").unwrap().unit, "degrees");
        assert_eq!(lookup("rlnOriginX").unwrap().unit, "pixels");
        assert_eq!(lookup("rlnOriginXAngst").unwrap().unit, "Å");
        assert_eq!(kind_of("rlnOpticsGroup"), ValueKind::Int);
        assert_eq!(kind_of("rlnCtfDataAreCtfPremultiplied"), ValueKind::Int);
        assert_eq!(kind_of("rlnOddZernike"), ValueKind::Text);
    }

    #[test]
    fn finite_labels_are_sorted_registered_floats() {
        for pair in FINITE_LABELS.windows(2) {
            assert!(pair[0] < pair[1], "{} before {}", pair[0], pair[1]);
        }
        for name in FINITE_LABELS {
            assert_eq!(kind_of(name), ValueKind::Float, "{name}");
            assert!(must_be_finite(name));
        }
        assert!(!must_be_finite("rlnFinalResolution"));
    }

    #[test]
    fn unknown_labels_are_text() {
        assert_eq!(lookup("rlnNoSuchLabel"), None);
        assert_eq!(kind_of("wrpSomething"), ValueKind::Text);
        assert_eq!(kind_of(""), ValueKind::Text);
    }
}
