/* The kernels: sieve, CRC32, integer matrix multiply, heap sort. */
#include "kernels.h"

#define SIEVE_N (1u << 18)
static uint8_t composite[SIEVE_N];

static uint32_t sieve(void)
{
	uint32_t count = 0;

	for (uint32_t i = 0; i < SIEVE_N; i++)
		composite[i] = 0;
	for (uint32_t i = 2; i < SIEVE_N; i++) {
		if (composite[i])
			continue;
		count++;
		for (uint32_t j = i + i; j < SIEVE_N; j += i)
			composite[j] = 1;
	}
	return count;
}

#define CRC_LEN (1u << 16)
static uint8_t crc_buf[CRC_LEN];

static uint32_t crc32(void)
{
	uint32_t crc = 0xffffffffu, seed = 12345;

	for (uint32_t i = 0; i < CRC_LEN; i++) {
		seed = seed * 1103515245u + 12345u;
		crc_buf[i] = (uint8_t)(seed >> 16);
	}
	for (uint32_t i = 0; i < CRC_LEN; i++) {
		crc ^= crc_buf[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
	}
	return ~crc;
}

#define MAT 64
static uint32_t ma[MAT][MAT], mb[MAT][MAT], mc[MAT][MAT];

static uint32_t matmul(void)
{
	uint32_t sum = 0;

	for (uint32_t i = 0; i < MAT; i++)
		for (uint32_t j = 0; j < MAT; j++) {
			ma[i][j] = i * 3 + j;
			mb[i][j] = i ^ (j * 7);
		}
	for (uint32_t i = 0; i < MAT; i++)
		for (uint32_t j = 0; j < MAT; j++) {
			uint32_t acc = 0;
			for (uint32_t k = 0; k < MAT; k++)
				acc += ma[i][k] * mb[k][j];
			mc[i][j] = acc;
		}
	for (uint32_t i = 0; i < MAT; i++)
		sum += mc[i][(i * 5) % MAT];
	return sum;
}

#define SORT_N (1u << 15)
static uint32_t arr[SORT_N];

static void sift_down(uint32_t *a, uint32_t start, uint32_t end)
{
	uint32_t root = start;

	while (2 * root + 1 <= end) {
		uint32_t child = 2 * root + 1, swap = root;
		if (a[swap] < a[child])
			swap = child;
		if (child + 1 <= end && a[swap] < a[child + 1])
			swap = child + 1;
		if (swap == root)
			return;
		uint32_t t = a[root];
		a[root] = a[swap];
		a[swap] = t;
		root = swap;
	}
}

static uint32_t heapsort(void)
{
	uint32_t seed = 777, sum = 0;

	for (uint32_t i = 0; i < SORT_N; i++) {
		seed = seed * 1664525u + 1013904223u;
		arr[i] = seed;
	}
	for (int32_t start = (SORT_N - 2) / 2; start >= 0; start--)
		sift_down(arr, (uint32_t)start, SORT_N - 1);
	for (uint32_t end = SORT_N - 1; end > 0; end--) {
		uint32_t t = arr[end];
		arr[end] = arr[0];
		arr[0] = t;
		sift_down(arr, 0, end - 1);
	}
	for (uint32_t i = 0; i < SORT_N; i += 97)
		sum += arr[i] * (i + 1);
	return sum;
}

const struct kernel kernels[] = {
	{ "sieve", sieve, 20 },
	{ "crc32", crc32, 10 },
	{ "matmul", matmul, 20 },
	{ "sort", heapsort, 10 },
};
const unsigned nr_kernels = sizeof(kernels) / sizeof(kernels[0]);
