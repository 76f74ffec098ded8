// next/cache in the direct bundle (scripts/build-if-needed.ts aliases it here): every page of the
// portal renders per request, so there is nothing cached to revalidate outside Next.js.
export function revalidatePath(_path: string, _type?: "layout" | "page"): void {}
