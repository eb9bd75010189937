// Posts the return form at once; the visible button is the fallback.
document.getElementById('return-form')?.submit();
